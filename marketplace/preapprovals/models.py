"""Pre-approvals (a credit line with an expiry, not tied to a car), their locked offers, and
the dealer look-ups made on them."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import created_now


class PreapprovalStatus(StrEnum):
    active = "active"
    consumed = "consumed"
    expired = "expired"
    cancelled = "cancelled"


class Preapproval(SQLModel, table=True):
    __tablename__ = "preapprovals"
    __table_args__ = (
        # One person holds at most one active pre-approval, whatever account applied.
        Index(
            "uq_preapprovals_person_hash_active",
            "person_hash",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        # The daily expiry finds the active approvals past their validity, by date.
        Index(
            "ix_preapprovals_active_expires_at",
            "expires_at",
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("applications.id"), nullable=False, unique=True)
    )
    buyer_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("users.id"), nullable=False, index=True)
    )
    person_hash: str = Field(sa_column=Column(String(64), nullable=False))
    code: str = Field(sa_column=Column(String(16), nullable=False, unique=True))
    grade: str = Field(max_length=2)
    credit_limit: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: PreapprovalStatus = Field(
        default=PreapprovalStatus.active, sa_column=Column(String(16), nullable=False)
    )
    expires_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    created_at: datetime = created_now()
    status_changed_at: datetime = created_now()


class LockedOffer(SQLModel, table=True):
    """An offer shown with a pre-approval: its product version's rates hold until expiry."""

    __tablename__ = "preapproval_offers"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    preapproval_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("preapprovals.id"), nullable=False, index=True)
    )
    product_version_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("product_versions.id"), nullable=False)
    )
    lender_id: uuid.UUID = Field(sa_column=Column(ForeignKey("organizations.id"), nullable=False))
    rank: int = Field(sa_column=Column(Integer, nullable=False))
    annual_rate: Decimal = Field(sa_column=Column(Numeric(8, 6), nullable=False))
    apr: Decimal = Field(sa_column=Column(Numeric(12, 10), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    term_months: int
    monthly_payment: int = Field(sa_column=Column(BigInteger, nullable=False))
    total_cost: int = Field(sa_column=Column(BigInteger, nullable=False))
    details: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class PreapprovalLookup(SQLModel, table=True):
    """A dealer looked this approval up; unconfirmed after a day, it alerts the advisor (飞单)."""

    __tablename__ = "preapproval_lookups"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    preapproval_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("preapprovals.id"), nullable=False, index=True)
    )
    dealer_id: uuid.UUID = Field(sa_column=Column(ForeignKey("organizations.id"), nullable=False))
    looked_up_at: datetime = created_now()
