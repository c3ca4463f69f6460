"""One collateral record per funded loan: the registration the dealer owes, then its release."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Date, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import created_now, timestamp_column

DEFAULT_COLLATERAL_DAYS = 60


class CollateralStatus(StrEnum):
    awaiting = "awaiting"  # the dealer owes the registration by due_on
    registered = "registered"
    not_required = "not_required"  # the loan was paid off before it was registered
    release_issued = "release_issued"  # paid off: the release instructions were issued
    released = "released"


class LoanCollateral(SQLModel, table=True):
    __tablename__ = "loan_collateral"
    __table_args__ = (
        # The daily overdue pass: awaiting registrations not flagged yet, by due date.
        Index(
            "ix_loan_collateral_awaiting_due_on",
            "due_on",
            postgresql_where=text("status = 'awaiting' AND overdue_at IS NULL"),
        ),
        Index("ix_loan_collateral_lender_id_status", "lender_id", "status"),
        Index("ix_loan_collateral_dealer_id_status", "dealer_id", "status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("loans.id"), nullable=False, unique=True)
    )
    lender_id: uuid.UUID = Field(sa_column=Column(ForeignKey("organizations.id"), nullable=False))
    dealer_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("organizations.id"), nullable=True)
    )
    status: str = Field(
        default=CollateralStatus.awaiting.value, sa_column=Column(String(16), nullable=False)
    )
    funded_on: date = Field(sa_column=Column(Date, nullable=False))
    due_on: date = Field(sa_column=Column(Date, nullable=False))
    overdue_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))

    # The registration (抵押登记), as the dealer recorded it.
    registration_number: str | None = Field(default=None, sa_column=Column(String(64)))
    authority: str | None = Field(default=None, sa_column=Column(String(200)))
    registered_on: date | None = Field(default=None, sa_column=Column(Date))
    document_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("deal_documents.id"), nullable=True)
    )
    registered_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    registered_by: str | None = Field(default=None, sa_column=Column(String(80)))

    # The release (解押) at payoff: the instructions as issued ({"zh": …, "en": …}), then
    # the release as the dealer recorded it.
    release_instructions: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    release_issued_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True)
    )
    released_on: date | None = Field(default=None, sa_column=Column(Date))
    release_document_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("deal_documents.id"), nullable=True)
    )
    released_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    released_by: str | None = Field(default=None, sa_column=Column(String(80)))

    created_at: datetime = created_now()
    updated_at: datetime = created_now()
