"""Mandates, reminders, the collection queue, notes and promises, and the guarantee view."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt, StringConstraints

from shared.schemas import RequestModel, ResponseModel


class MandateCreate(RequestModel):
    """``{}`` authorises the buyer's saved default card; ``payment_method`` saves that card
    first (as ``POST /v1/buyer/payment-methods`` does) and authorises it."""

    payment_method: (
        Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,250}$")] | None
    ) = None


class MandatePublic(ResponseModel):
    id: uuid.UUID
    loan_id: uuid.UUID
    status: Literal["active", "revoked"]
    collector: str
    card_brand: str | None
    card_last4: str | None
    text_version: str
    agreed_text: str = Field(description="Exactly the text the buyer agreed to.")
    locale: str
    agreed_at: datetime
    revoked_at: datetime | None


class DebitAttemptPublic(BaseModel):
    installment_n: int
    attempt: int
    attempted_on: date
    amount: int
    status: Literal["processing", "succeeded", "failed"]
    failure_code: str | None


class MandateView(BaseModel):
    """The loan's live mandate (null when none), the text a new one would be agreed with, and
    the automatic debits made."""

    mandate: MandatePublic | None
    text_version: str
    text: str
    attempts: list[DebitAttemptPublic]


class NoticePublic(ResponseModel):
    id: uuid.UUID
    kind: Literal["upcoming", "debit_failed", "late", "bureau_notice"]
    channel: str
    body: str
    status: Literal["pending", "sending", "sent", "failed"]
    created_at: datetime
    sent_at: datetime | None


class NoteCreate(RequestModel):
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]


class PromiseCreate(RequestModel):
    amount: Annotated[StrictInt, Field(gt=0, le=100_000_000_00, description="fen")]
    promised_on: date
    text: (
        Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
        | None
    ) = None


class NotePublic(ResponseModel):
    id: uuid.UUID
    kind: Literal["note", "promise"]
    text: str
    promised_amount: int | None
    promised_on: date | None
    author_id: uuid.UUID
    created_at: datetime


class Debtor(BaseModel):
    id: uuid.UUID
    name: str
    phone_masked: str | None


# Servicing's ``Bucket`` values a past-due loan can have (``current`` never is in a queue),
# written out because a Literal keeps the document's inline enum; a test holds them equal.
PastDueBucket = Literal["1-30", "31-60", "61-90", "90+"]


class QueueItem(BaseModel):
    loan_id: uuid.UUID
    buyer: Debtor
    bucket: PastDueBucket
    days_past_due: int
    overdue_since: date | None
    overdue_amount: int = Field(description="Owed on instalments past due, late fees included.")
    late_fees: int = Field(description="Late fees unpaid.")
    balance: int = Field(description="Everything owed on the loan, by the ledger.")
    platform_guarantee: bool
    mandate_active: bool
    last_contact_at: datetime | None
    promise: NotePublic | None = Field(description="The latest promise to pay.")


class BucketFigures(BaseModel):
    count: int
    balance: int


class CollectionQueue(BaseModel):
    """Past-due loans, longest overdue first (``{items, total, limit, offset}``), and every
    bucket's count and balance."""

    items: list[QueueItem]
    total: int
    limit: int
    offset: int
    buckets: dict[str, BucketFigures]


class ContactHistory(BaseModel):
    loan_id: uuid.UUID
    notices: list[NoticePublic]
    notes: list[NotePublic]
    attempts: list[DebitAttemptPublic]


class ClaimPublic(ResponseModel):
    id: uuid.UUID
    loan_id: uuid.UUID
    lender_id: uuid.UUID
    amount: int
    principal: int
    interest: int
    paid_on: date


class ReservePublic(BaseModel):
    provisioned: int
    claims_paid: int
    recovered: int
    balance: int = Field(description="Provisioned − claims paid + recovered (negative: shortfall).")


class GuaranteePublic(BaseModel):
    guaranteed_loans: int = Field(description="Active platform-guaranteed loans.")
    guaranteed_outstanding: int = Field(description="Their balance: the platform's exposure.")
    claims_count: int
    claims_paid: int
    reserve: ReservePublic
    claims: list[ClaimPublic] = Field(description="The latest claims paid.")
