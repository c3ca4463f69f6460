"""What a dealer is paid when its deal's loan is funded, and where the money goes."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, String, text
from sqlmodel import Field, SQLModel

from shared.db import created_now, timestamp_column


class DisbursementStatus(StrEnum):
    pending = "pending"  # to be paid by a Stripe Transfer (now, or by the next ``jobs run``)
    paid = "paid"  # the transfer is made: ``transfer_id``
    not_connected = "not_connected"  # the dealer has no connected account: paid off-platform
    failed = "failed"  # Stripe refused the transfer (``failure_code``): a person must look


class Disbursement(SQLModel, table=True):
    """The money a funded loan sends to its dealer: the principal less the product's dealer
    fee. One per loan, written in the transaction that funds it."""

    __tablename__ = "disbursements"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        # The payout sweep's queue: pending transfers, oldest first.
        Index(
            "ix_disbursements_pending",
            "created_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("loans.id"), nullable=False, unique=True)
    )
    dealer_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("organizations.id"), nullable=False, index=True)
    )
    lender_id: uuid.UUID = Field(sa_column=Column(ForeignKey("organizations.id"), nullable=False))
    principal: int = Field(sa_column=Column(BigInteger, nullable=False))
    dealer_fee: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    # The connected account when the disbursement was recorded (a later change of account
    # does not redirect money already on its way).
    destination: str | None = Field(default=None, sa_column=Column(String(255)))
    transfer_id: str | None = Field(default=None, sa_column=Column(String(255), unique=True))
    failure_code: str | None = Field(default=None, sa_column=Column(String(100)))
    # Held by whoever is calling Stripe for it until then; a holder that died lets go by itself.
    claimed_until: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    created_at: datetime = created_now()
    paid_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class PayoutAccount(SQLModel, table=True):
    """A dealer's Stripe connected account (``acct_…``), set by the platform's admin."""

    __tablename__ = "dealer_payout_accounts"

    dealer_id: uuid.UUID = Field(sa_column=Column(ForeignKey("organizations.id"), primary_key=True))
    stripe_account_id: str = Field(sa_column=Column(String(255), nullable=False))
    updated_by: str = Field(sa_column=Column(String(80), nullable=False))
    updated_at: datetime = created_now()
