"""Dealer deals (a car financed on a buyer's pre-approval) and walk-in customers' claim codes."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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

from shared.db import created_now, timestamp_column


class DealStatus(StrEnum):
    quoted = "quoted"
    confirmed = "confirmed"
    handed_over = "handed_over"
    cancelled = "cancelled"


class DownPaymentStatus(StrEnum):
    """The down payment's money: requested at confirm, then paid or failed; refunded if the deal
    is cancelled after it was paid (``refund_due`` when it was paid after the cancellation)."""

    not_requested = "not_requested"
    requested = "requested"
    failed = "failed"
    paid = "paid"
    refunding = "refunding"
    refunded = "refunded"
    refund_due = "refund_due"
    voided = "voided"  # the deal was cancelled before it was paid; the intent was cancelled


class DealerDeal(SQLModel, table=True):
    """One car on one pre-approval at one dealer, from the quote to handover or cancellation."""

    __tablename__ = "dealer_deals"
    __table_args__ = (
        CheckConstraint("down_payment_amount > 0", name="down_payment_positive"),
        CheckConstraint("car_price > down_payment_amount", name="price_above_down_payment"),
        Index("ix_dealer_deals_dealer_id_status", "dealer_id", "status"),
        # The reconciliation's queues (confirmed deals awaiting a down payment, cancelled ones
        # owed a refund), oldest first, among every deal ever handed over.
        Index("ix_dealer_deals_status_updated_at", "status", "updated_at"),
        # The lender's decision queue.
        Index(
            "ix_dealer_deals_lender_id_decision_status",
            "lender_id",
            "decision_status",
            postgresql_where=text("decision_status IS NOT NULL"),
        ),
        # A buyer's deals (their counter-offers and contracts).
        Index("ix_dealer_deals_buyer_id", "buyer_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    dealer_id: uuid.UUID = Field(sa_column=Column(ForeignKey("organizations.id"), nullable=False))
    preapproval_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("preapprovals.id"), nullable=False, index=True)
    )
    offer_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("preapproval_offers.id"), nullable=False)
    )
    product_version_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("product_versions.id"), nullable=False)
    )
    lender_id: uuid.UUID = Field(sa_column=Column(ForeignKey("organizations.id"), nullable=False))
    buyer_id: uuid.UUID = Field(sa_column=Column(ForeignKey("users.id"), nullable=False))
    created_by: str = Field(sa_column=Column(String(80), nullable=False))
    status: DealStatus = Field(
        default=DealStatus.quoted, sa_column=Column(String(16), nullable=False)
    )

    # The car.
    vin: str = Field(sa_column=Column(String(17), nullable=False, index=True))
    make: str = Field(sa_column=Column(String(50), nullable=False))
    model: str = Field(sa_column=Column(String(100), nullable=False))
    vehicle_type: str = Field(sa_column=Column(String(8), nullable=False))
    car_price: int = Field(sa_column=Column(BigInteger, nullable=False))

    # The structure and the terms quoted on the locked product version.
    down_payment_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    term_months: int = Field(sa_column=Column(Integer, nullable=False))
    principal: int = Field(sa_column=Column(BigInteger, nullable=False))
    annual_rate: Decimal = Field(sa_column=Column(Numeric(8, 6), nullable=False))
    apr: Decimal = Field(sa_column=Column(Numeric(12, 10), nullable=False))
    monthly_payment: int = Field(sa_column=Column(BigInteger, nullable=False))
    total_interest: int = Field(sa_column=Column(BigInteger, nullable=False))
    total_cost: int = Field(sa_column=Column(BigInteger, nullable=False))
    upfront_fee: int = Field(sa_column=Column(BigInteger, nullable=False))
    method: str = Field(sa_column=Column(String(32), nullable=False))
    grade: str = Field(sa_column=Column(String(2), nullable=False))  # the grade the car earned
    # The pre-approval's grade (its worst-structure ceiling) and this car's 12-month PD and
    # score; None on deals quoted before structure pricing.
    preapproval_grade: str | None = Field(default=None, sa_column=Column(String(2)))
    pd: Decimal | None = Field(default=None, sa_column=Column(Numeric(10, 8)))
    score: int | None = Field(default=None, sa_column=Column(Integer))
    platform_guarantee: bool = Field(sa_column=Column(Boolean, nullable=False))
    quote: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))

    # Confirmation, the loan and the down payment.
    identity_verified_by: str | None = Field(default=None, sa_column=Column(String(80)))
    loan_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("loans.id"), nullable=True, unique=True)
    )
    down_payment_status: DownPaymentStatus = Field(
        default=DownPaymentStatus.not_requested, sa_column=Column(String(16), nullable=False)
    )
    payment_intent_id: str | None = Field(
        default=None, sa_column=Column(String(255), nullable=True, unique=True)
    )
    down_payment_failure_code: str | None = Field(default=None, sa_column=Column(String(100)))
    down_payment_failure_message: str | None = Field(default=None, sa_column=Column(String(300)))
    refund_id: str | None = Field(default=None, sa_column=Column(String(255), unique=True))

    created_at: datetime = created_now()
    updated_at: datetime = created_now()
    confirmed_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    down_payment_paid_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True)
    )
    handed_over_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    cancelled_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))

    # The lender's decision and the signed contract, for products that do not auto-fund (None
    # on an auto-funded product's deal): see ``dealer_portal.decisions`` for the state machine.
    decision_status: str | None = Field(default=None, sa_column=Column(String(24)))
    decision_due_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True)
    )
    decided_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    decision_reasons: list[str] | None = Field(default=None, sa_column=Column(JSONB))
    counter_offer: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    contract_signed_sha256: str | None = Field(default=None, sa_column=Column(String(64)))
    contract_signed_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True)
    )
    insurance: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))


class WalkInClaim(SQLModel, table=True):
    """The one-time code a walk-in customer uses to claim the account a dealer opened for them.

    Only a keyed hash of the code is kept; one live code per account (a new walk-in replaces it).
    """

    __tablename__ = "walk_in_claims"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("users.id"), nullable=False, unique=True)
    )
    dealer_id: uuid.UUID = Field(sa_column=Column(ForeignKey("organizations.id"), nullable=False))
    application_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("applications.id"), nullable=False)
    )
    code_hash: str = Field(sa_column=Column(String(64), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    created_at: datetime = created_now()
