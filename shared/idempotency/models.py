"""The idempotency-key table, and what a finished request stored for replay."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import created_now, utcnow

STARTED = "started"
FINISHED = "finished"
DEFAULT_LOCK_TIMEOUT = timedelta(seconds=90)
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
PHASE_ATTEMPTS = 3


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("scope", "key"),
        # Reconciliation finds the requests behind a payment by their recovery data.
        Index(
            "ix_idempotency_keys_recovery_data",
            "recovery_data",
            postgresql_using="gin",
            postgresql_ops={"recovery_data": "jsonb_path_ops"},
        ),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    scope: str = Field(sa_column=Column(String(100), nullable=False))
    key: str = Field(sa_column=Column(String(MAX_KEY_LENGTH), nullable=False))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    recovery_point: str = Field(sa_column=Column(String(50), nullable=False))
    recovery_data: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False)
    )
    locked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    response_status: int | None = Field(default=None, sa_column=Column(Integer))
    response_body: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), index=True
        ),
    )
    last_run_at: datetime = created_now()


@dataclass(frozen=True)
class StoredResponse:
    """The answer a finished request gave, replayed verbatim to every retry."""

    status: int
    body: dict[str, Any]

    def to_response(self, *, replayed: bool = False) -> JSONResponse:
        headers = {REPLAYED_HEADER: "true"} if replayed else None
        return JSONResponse(self.body, status_code=self.status, headers=headers)


@dataclass(frozen=True)
class RecoveryPoint:
    """What a phase committed: its name, and ids later phases need (merged into ``data``)."""

    name: str
    data: Mapping[str, Any] = field(default_factory=dict)
