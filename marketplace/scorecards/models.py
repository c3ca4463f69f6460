"""Published scorecards. A row never changes but for its ``role``: the card itself is
immutable, so a version names exactly one points table for as long as the platform lives."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import created_now, timestamp_column


class ScorecardRole(StrEnum):
    candidate = "candidate"  # published, not in service
    champion = "champion"  # decides every application
    challenger = "challenger"  # scored in shadow on every application, never used


class PublishedScorecard(SQLModel, table=True):
    __tablename__ = "scorecards"
    __table_args__ = (
        CheckConstraint("role IN ('candidate', 'champion', 'challenger')", name="role"),
        # One champion and one challenger at most: the database decides between racing admins.
        Index(
            "uq_scorecards_one_champion",
            "role",
            unique=True,
            postgresql_where=text("role = 'champion'"),
        ),
        Index(
            "uq_scorecards_one_challenger",
            "role",
            unique=True,
            postgresql_where=text("role = 'challenger'"),
        ),
    )

    version: str = Field(sa_column=Column(String(64), primary_key=True))
    card: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    role: ScorecardRole = Field(
        default=ScorecardRole.candidate, sa_column=Column(String(16), nullable=False)
    )
    published_by: str = Field(sa_column=Column(String(80), nullable=False))
    published_at: datetime = created_now()
    role_changed_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True)
    )
