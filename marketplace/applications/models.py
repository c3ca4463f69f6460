"""Credit applications, the consent behind them, and the bureau reports they used."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Numeric, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import created_now, timestamp_column


class ApplicationStatus(StrEnum):
    submitted = "submitted"
    pending_bureau = "pending_bureau"
    decided = "decided"


class DecisionOutcome(StrEnum):
    approved = "approved"
    declined = "declined"
    pending_bureau = "pending_bureau"


class Channel(StrEnum):
    online = "online"
    walk_in = "walk_in"


class BureauReport(SQLModel, table=True):
    """One pull from the credit bureau for one person; reused for 30 days."""

    __tablename__ = "bureau_reports"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    person_hash: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    source: str = Field(max_length=32)
    facts: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    pulled_at: datetime = created_now()


class Application(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (
        # The daily retry finds the few undecided applications among millions of decided ones.
        Index(
            "ix_applications_undecided_created_at",
            "created_at",
            postgresql_where=text("status IN ('submitted', 'pending_bureau')"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    buyer_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("users.id"), nullable=False, index=True)
    )
    channel: Channel = Field(default=Channel.online, sa_column=Column(String(16), nullable=False))
    dealer_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("organizations.id"), nullable=True, index=True)
    )
    person_hash: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    national_id_encrypted: str = Field(sa_column=Column(String(200), nullable=False))
    age: int
    monthly_income: int = Field(sa_column=Column(BigInteger, nullable=False))
    employment_months: int
    housing: str = Field(max_length=16)
    existing_monthly_debt: int = Field(sa_column=Column(BigInteger, nullable=False))
    # The optional profile (None = not declared; the scorecard scores it as missing).
    marital_status: str | None = Field(default=None, max_length=16)
    employment_type: str | None = Field(default=None, max_length=16)
    monthly_expenses: int | None = Field(default=None, sa_column=Column(BigInteger))
    assets: int | None = Field(default=None, sa_column=Column(BigInteger))
    dependents: int | None = None
    consent: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    status: ApplicationStatus = Field(
        default=ApplicationStatus.submitted, sa_column=Column(String(16), nullable=False)
    )
    decision: DecisionOutcome | None = Field(default=None, sa_column=Column(String(16)))
    grade: str | None = Field(default=None, max_length=2)
    score: int | None = None
    pd: Decimal | None = Field(default=None, sa_column=Column(Numeric(10, 8)))
    credit_limit: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    reasons: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    scorecard_version: str | None = Field(default=None, max_length=64)
    inputs_hash: str | None = Field(default=None, max_length=64)
    bureau_report_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("bureau_reports.id"), nullable=True)
    )
    bureau_attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    created_at: datetime = created_now()
    decided_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
