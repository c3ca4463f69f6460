"""Collections: debit mandates and attempts, reminders sent, the collectors' notes and promises,
and the platform guarantee's claims and reserve ledger.

What must hold under concurrency is a unique key: one live mandate per loan, one debit attempt
per loan and day (and per instalment and attempt number), one message per reminder key, one
claim per loan, one guarantee-ledger entry per key.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from shared.db import created_now


class MandateStatus(StrEnum):
    active = "active"
    revoked = "revoked"


class Mandate(SQLModel, table=True):
    """A buyer's authorisation to collect a loan's instalments from a payment method on their due
    dates (代扣授权): who agreed, to which method, when, and the exact text and its version."""

    __tablename__ = "loan_mandates"
    __table_args__ = (
        Index(
            "uq_loan_mandates_loan_id_active",
            "loan_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(sa_column=Column(ForeignKey("loans.id"), nullable=False, index=True))
    buyer_id: uuid.UUID = Field(sa_column=Column(ForeignKey("users.id"), nullable=False))
    status: MandateStatus = Field(
        default=MandateStatus.active, sa_column=Column(String(16), nullable=False)
    )
    collector: str = Field(sa_column=Column(String(32), nullable=False))  # "stripe", …
    customer_ref: str = Field(sa_column=Column(String(255), nullable=False))
    payment_method_ref: str = Field(sa_column=Column(String(255), nullable=False))
    card_brand: str | None = Field(default=None, sa_column=Column(String(32)))
    card_last4: str | None = Field(default=None, sa_column=Column(String(4)))
    text_version: str = Field(sa_column=Column(String(32), nullable=False))
    agreed_text: str = Field(sa_column=Column(Text, nullable=False))
    locale: str = Field(sa_column=Column(String(8), nullable=False))
    agreed_at: datetime = created_now()
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class DebitAttempt(SQLModel, table=True):
    """One automatic debit: attempt ``attempt`` at the oldest unpaid instalment ``installment_n``,
    made on ``attempted_on``. Its money is a ``loan_payments`` row, credited (or failed) exactly
    like a repayment the buyer asked for; its outcome is that payment's status."""

    __tablename__ = "debit_attempts"
    __table_args__ = (
        UniqueConstraint("loan_id", "installment_n", "attempt"),
        UniqueConstraint("loan_id", "attempted_on"),  # never more than once a day
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(sa_column=Column(ForeignKey("loans.id"), nullable=False))
    mandate_id: uuid.UUID = Field(sa_column=Column(ForeignKey("loan_mandates.id"), nullable=False))
    installment_n: int = Field(sa_column=Column(Integer, nullable=False))
    attempt: int = Field(sa_column=Column(Integer, nullable=False))
    attempted_on: date = Field(sa_column=Column(Date, nullable=False))
    payment_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("loan_payments.id"), nullable=False, unique=True)
    )
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = created_now()


class NoticeKind(StrEnum):
    upcoming = "upcoming"  # a few days before a due date
    debit_failed = "debit_failed"  # an automatic debit was declined
    late = "late"  # an instalment went late
    bureau_notice = "bureau_notice"  # before a late account is reported to the credit bureau


class NoticeStatus(StrEnum):
    pending = "pending"  # recorded, waiting for contact hours
    sending = "sending"  # claimed by one run (never sent twice, even if that run dies)
    sent = "sent"
    failed = "failed"


class Notice(SQLModel, table=True):
    """A reminder to a buyer, recorded once by its key (``upcoming:{loan}:{n}``, …) and sent at
    most once, within contact hours."""

    __tablename__ = "collection_notices"
    __table_args__ = (
        Index(
            "ix_collection_notices_pending",
            "created_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    notice_key: str = Field(sa_column=Column(String(160), nullable=False, unique=True))
    loan_id: uuid.UUID = Field(sa_column=Column(ForeignKey("loans.id"), nullable=False, index=True))
    buyer_id: uuid.UUID = Field(sa_column=Column(ForeignKey("users.id"), nullable=False))
    kind: NoticeKind = Field(sa_column=Column(String(16), nullable=False))
    channel: str = Field(default="sms", sa_column=Column(String(8), nullable=False))
    locale: str = Field(sa_column=Column(String(8), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: NoticeStatus = Field(
        default=NoticeStatus.pending, sa_column=Column(String(8), nullable=False)
    )
    created_at: datetime = created_now()
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class NoteKind(StrEnum):
    note = "note"
    promise = "promise"  # a promise to pay ``promised_amount`` by ``promised_on``


class CollectionNote(SQLModel, table=True):
    """What a collector recorded about a late account: a note, or a promise to pay."""

    __tablename__ = "collection_notes"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(sa_column=Column(ForeignKey("loans.id"), nullable=False, index=True))
    author_id: uuid.UUID = Field(sa_column=Column(ForeignKey("users.id"), nullable=False))
    kind: NoteKind = Field(sa_column=Column(String(8), nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    promised_amount: int | None = Field(default=None, sa_column=Column(BigInteger))
    promised_on: date | None = Field(default=None, sa_column=Column(Date))
    created_at: datetime = created_now()


class GuaranteeClaim(SQLModel, table=True):
    """The platform paying a lender what it guaranteed on a charged-off loan: once per loan."""

    __tablename__ = "guarantee_claims"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("loans.id"), nullable=False, unique=True)
    )
    lender_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("organizations.id"), nullable=False, index=True)
    )
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    principal: int = Field(sa_column=Column(BigInteger, nullable=False))
    interest: int = Field(sa_column=Column(BigInteger, nullable=False))
    paid_on: date = Field(sa_column=Column(Date, nullable=False))
    created_at: datetime = created_now()


class GuaranteeEntryType(StrEnum):
    provision = "provision"  # + set aside for a guaranteed loan once it is funded
    claim = "claim"  # − paid to a lender on a charged-off loan
    recovery = "recovery"  # + collected later on a loan whose claim was paid


class GuaranteeEntry(SQLModel, table=True):
    """The platform's guarantee reserve, append-only: the sum of the entries is the reserve."""

    __tablename__ = "guarantee_ledger"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    entry_key: str = Field(sa_column=Column(String(120), nullable=False, unique=True))
    entry_type: GuaranteeEntryType = Field(sa_column=Column(String(16), nullable=False))
    loan_id: uuid.UUID = Field(sa_column=Column(ForeignKey("loans.id"), nullable=False, index=True))
    lender_id: uuid.UUID = Field(sa_column=Column(ForeignKey("organizations.id"), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    effective_date: date = Field(sa_column=Column(Date, nullable=False))
    created_at: datetime = created_now()
