"""Credit applications, the consent behind them, and the bureau reports they used."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
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
        Index("ix_applications_decided_at", "decided_at"),
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
    # The structure the grade assumed (the worst the policy allows, when the card bins any).
    structure_assumed: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    # The challenger's shadow score: recorded beside the decision, never used for it.
    challenger_version: str | None = Field(default=None, max_length=64)
    challenger_score: int | None = None
    challenger_pd: Decimal | None = Field(default=None, sa_column=Column(Numeric(10, 8)))
    challenger_grade: str | None = Field(default=None, max_length=2)
    inputs_hash: str | None = Field(default=None, max_length=64)
    bureau_report_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("bureau_reports.id"), nullable=True)
    )
    bureau_attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    created_at: datetime = created_now()
    decided_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class ConsentKind(StrEnum):
    bureau_pull = "bureau_pull"  # 征信查询授权: the person's own authorisation of the pull
    lender_sharing = "lender_sharing"  # PIPL separate consent: the decision goes to named lenders


class Consent(SQLModel, table=True):
    """What one applicant agreed to for one application: the exact text and its version, and
    for sharing, the named recipients. Withdrawing sharing stops future use, not past use."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("application_id", "kind"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=Column(ForeignKey("users.id"), nullable=False, index=True))
    application_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("applications.id"), nullable=False)
    )
    kind: ConsentKind = Field(sa_column=Column(String(32), nullable=False))
    version: str = Field(max_length=32)
    text: dict[str, str] = Field(sa_column=Column(JSONB, nullable=False))
    recipients: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    recorded_by: str = Field(max_length=100)
    granted_at: datetime = Field(sa_column=timestamp_column())
    withdrawn_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
