"""Loans, their instalments, repayments, the per-loan ledger and buyers' saved cards.

A loan's instalment rows are the calculator's schedule for the loan's terms (never edited);
what changes is what has been charged and paid against each row. The ledger is append-only:
every entry has a unique ``(loan_id, entry_key)``, so writing it twice is impossible and every
balance can be derived from it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import created_now


class LoanStatus(StrEnum):
    pending_funding = "pending_funding"
    active = "active"
    paid_off = "paid_off"
    charged_off = "charged_off"
    cancelled = "cancelled"  # its deal was cancelled before handover


class InstallmentStatus(StrEnum):
    due = "due"
    late = "late"
    paid = "paid"


class PaymentKind(StrEnum):
    installments = "installments"
    payoff = "payoff"


class PaymentStatus(StrEnum):
    processing = "processing"
    succeeded = "succeeded"
    failed = "failed"


class LedgerEntryType(StrEnum):
    disbursement = "disbursement"  # + principal lent
    instalment_due = "instalment_due"  # + interest charged on an instalment
    payment = "payment"  # − an instalment payment received
    late_fee = "late_fee"  # + a late fee charged on an instalment
    payoff = "payoff"  # − the payment that closed the loan early
    charge_off = "charge_off"  # − the balance written off
    guarantee_claim = "guarantee_claim"  # − the balance the platform's guarantee paid the lender
    recovery = "recovery"  # + reinstates what a payment on a charged-off loan recovered


class Bucket(StrEnum):
    """How far behind a loan is, by days past due (``amounts.bucket_for``)."""

    current = "current"
    dpd_1_30 = "1-30"
    dpd_31_60 = "31-60"
    dpd_61_90 = "61-90"
    dpd_90_plus = "90+"


class Loan(SQLModel, table=True):
    __tablename__ = "loans"
    __table_args__ = (
        # A pre-approval finances one car: at most one loan on it that is not cancelled.
        Index(
            "uq_loans_preapproval_id_live",
            "preapproval_id",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_loans_status_lender_id", "status", "lender_id"),
        # A car backs one live loan: no second loan on a VIN already financed and not repaid.
        Index(
            "uq_loans_vin_live",
            text("(vehicle ->> 'vin')"),
            unique=True,
            postgresql_where=text("status IN ('pending_funding', 'active')"),
        ),
        # The daily jobs' own loans besides those with an instalment due: never serviced yet,
        # or still behind (a few percent of the book).
        Index(
            "ix_loans_to_service",
            "id",
            postgresql_where=text(
                "status = 'active' AND (delinquency_as_of IS NULL OR days_past_due <> 0)"
            ),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    preapproval_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("preapprovals.id"), nullable=False)
    )
    offer_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("preapproval_offers.id"), nullable=False)
    )
    product_version_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("product_versions.id"), nullable=False)
    )
    lender_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("organizations.id"), nullable=False, index=True)
    )
    buyer_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("users.id"), nullable=False, index=True)
    )
    dealer_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("organizations.id"), index=True)
    )
    status: LoanStatus = Field(
        default=LoanStatus.pending_funding, sa_column=Column(String(16), nullable=False)
    )
    principal: int = Field(sa_column=Column(BigInteger, nullable=False))
    annual_rate: Decimal = Field(sa_column=Column(Numeric(8, 6), nullable=False))
    apr: Decimal = Field(sa_column=Column(Numeric(12, 10), nullable=False))
    term_months: int = Field(sa_column=Column(Integer, nullable=False))
    method: str = Field(sa_column=Column(String(32), nullable=False))
    upfront_fee: int = Field(sa_column=Column(BigInteger, nullable=False))
    monthly_payment: int = Field(sa_column=Column(BigInteger, nullable=False))
    grade: str = Field(sa_column=Column(String(2), nullable=False))
    # The 12-month PD predicted for this car at booking (monitoring compares it with what
    # happened); None on loans booked before it was recorded.
    pd: Decimal | None = Field(default=None, sa_column=Column(Numeric(10, 8)))
    platform_guarantee: bool = Field(sa_column=Column(Boolean, nullable=False))
    auto_fund: bool = Field(sa_column=Column(Boolean, nullable=False))
    loan_date: date = Field(sa_column=Column(Date, nullable=False))
    vehicle: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    days_past_due: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    bucket: str = Field(default=Bucket.current, sa_column=Column(String(8), nullable=False))
    delinquency_as_of: date | None = Field(default=None, sa_column=Column(Date))
    funded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime = created_now()
    status_changed_at: datetime = created_now()


class Installment(SQLModel, table=True):
    """One row of the schedule. ``payment/principal/interest`` are the contract; the rest is
    servicing: ``interest_charged`` is NULL until the interest falls due or is paid (and, at an
    early payoff, becomes the interest accrued to that day), ``paid_amount`` counts towards
    ``principal + interest_charged``, ``late_fee_paid`` towards ``late_fee``."""

    __tablename__ = "loan_installments"
    __table_args__ = (
        UniqueConstraint("loan_id", "n"),
        # What the daily jobs look for: unpaid instalments already due, by date and by loan
        # (paid rows are most of the table and need nothing).
        Index(
            "ix_loan_installments_unpaid_due_date",
            "due_date",
            postgresql_where=text("status <> 'paid'"),
        ),
        Index(
            "ix_loan_installments_unpaid_loan_id_due_date",
            "loan_id",
            "due_date",
            postgresql_where=text("status <> 'paid'"),
        ),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    loan_id: uuid.UUID = Field(sa_column=Column(ForeignKey("loans.id"), nullable=False))
    n: int = Field(sa_column=Column(Integer, nullable=False))
    due_date: date = Field(sa_column=Column(Date, nullable=False, index=True))
    payment: int = Field(sa_column=Column(BigInteger, nullable=False))
    principal: int = Field(sa_column=Column(BigInteger, nullable=False))
    interest: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: InstallmentStatus = Field(
        default=InstallmentStatus.due, sa_column=Column(String(8), nullable=False)
    )
    interest_charged: int | None = Field(default=None, sa_column=Column(BigInteger))
    paid_amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    late_fee: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    late_fee_paid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    paid_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class LoanPayment(SQLModel, table=True):
    """A repayment the buyer asked for; credited once, when its PaymentIntent succeeds."""

    __tablename__ = "loan_payments"
    __table_args__ = (
        # The reconciliation's queue: repayments still processing, oldest first.
        Index(
            "ix_loan_payments_processing_created_at",
            "created_at",
            postgresql_where=text("status = 'processing'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(sa_column=Column(ForeignKey("loans.id"), nullable=False, index=True))
    buyer_id: uuid.UUID = Field(sa_column=Column(ForeignKey("users.id"), nullable=False))
    kind: PaymentKind = Field(sa_column=Column(String(16), nullable=False))
    installments: int | None = Field(default=None, sa_column=Column(Integer))
    payoff_on: date | None = Field(default=None, sa_column=Column(Date))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: PaymentStatus = Field(
        default=PaymentStatus.processing, sa_column=Column(String(16), nullable=False)
    )
    payment_intent_id: str | None = Field(default=None, sa_column=Column(String(255), unique=True))
    failure_code: str | None = Field(default=None, sa_column=Column(String(64)))
    created_at: datetime = created_now()
    settled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class LedgerEntry(SQLModel, table=True):
    """One append-only ledger line. ``amount`` is signed from the lender's side: positive adds
    to what the borrower owes, negative reduces it; the sum is the balance owed."""

    __tablename__ = "loan_ledger"
    __table_args__ = (UniqueConstraint("loan_id", "entry_key"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    loan_id: uuid.UUID = Field(sa_column=Column(ForeignKey("loans.id"), nullable=False))
    entry_type: LedgerEntryType = Field(sa_column=Column(String(16), nullable=False))
    entry_key: str = Field(sa_column=Column(String(80), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    installment_n: int | None = Field(default=None, sa_column=Column(Integer))
    payment_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("loan_payments.id"))
    )
    effective_date: date = Field(sa_column=Column(Date, nullable=False))
    created_at: datetime = created_now()


class PaymentProfile(SQLModel, table=True):
    """A buyer's Stripe customer and default card (brand and last 4 only, never card data)."""

    __tablename__ = "buyer_payment_profiles"

    buyer_id: uuid.UUID = Field(sa_column=Column(ForeignKey("users.id"), primary_key=True))
    stripe_customer_id: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    payment_method_id: str | None = Field(default=None, sa_column=Column(String(255)))
    card_brand: str | None = Field(default=None, sa_column=Column(String(32)))
    card_last4: str | None = Field(default=None, sa_column=Column(String(4)))
    created_at: datetime = created_now()
    updated_at: datetime = created_now()
