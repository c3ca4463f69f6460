"""Stipulations, uploaded documents and contract signatures of the deals that wait for a lender.

Documents' bytes live outside the database (``documents.DocumentStore``), addressed by their
SHA-256; the rows here say whose they are. Signatures are append-only (a trigger refuses UPDATE
and DELETE, as on the audit log).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import created_now, timestamp_column


class DecisionStatus(StrEnum):
    decision_required = "decision_required"
    conditions = "conditions"
    countered = "countered"
    approved = "approved"
    declined = "declined"


SIGNABLE = (DecisionStatus.conditions, DecisionStatus.approved)
"""The decisions under which the contract's terms are final, so the buyer may sign it."""


class StipulationType(StrEnum):
    id_card = "id_card"
    driving_licence = "driving_licence"
    proof_of_income = "proof_of_income"
    bank_statements = "bank_statements"
    vehicle_invoice = "vehicle_invoice"


class StipulationStatus(StrEnum):
    pending = "pending"  # nothing uploaded yet (or the last upload was rejected)
    submitted = "submitted"  # a document waits for the lender's review
    satisfied = "satisfied"
    rejected = "rejected"


class Stipulation(SQLModel, table=True):
    """A document the lender asked for before the deal is approved, with its due date."""

    __tablename__ = "deal_stipulations"
    __table_args__ = (UniqueConstraint("deal_id", "type"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    deal_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("dealer_deals.id"), nullable=False, index=True)
    )
    type: str = Field(sa_column=Column(String(32), nullable=False))
    due_at: datetime = Field(sa_column=timestamp_column())
    status: str = Field(
        default=StipulationStatus.pending.value, sa_column=Column(String(16), nullable=False)
    )
    document_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("deal_documents.id"), nullable=True)
    )
    reason: str | None = Field(default=None, sa_column=Column(String(500)))
    reviewed_by: str | None = Field(default=None, sa_column=Column(String(80)))
    reviewed_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    created_at: datetime = created_now()


class DealDocument(SQLModel, table=True):
    """One uploaded file of a deal; its bytes are in the document store under ``sha256``."""

    __tablename__ = "deal_documents"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    deal_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("dealer_deals.id"), nullable=False, index=True)
    )
    uploaded_by: str = Field(sa_column=Column(String(80), nullable=False))
    uploader_role: str = Field(sa_column=Column(String(16), nullable=False))  # dealer | buyer
    stipulation_id: uuid.UUID | None = Field(default=None, sa_column=Column(nullable=True))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    content_type: str = Field(sa_column=Column(String(32), nullable=False))
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = created_now()


class ContractSignature(SQLModel, table=True):
    """The buyer's signature of one loan's contract: what they signed (the PDF's SHA-256), when,
    from which verified phone, and how it was verified. Append-only; one per loan."""

    __tablename__ = "contract_signatures"
    __table_args__ = (Index("ix_contract_signatures_deal_id", "deal_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("loans.id"), nullable=False, unique=True)
    )
    deal_id: uuid.UUID = Field(sa_column=Column(ForeignKey("dealer_deals.id"), nullable=False))
    buyer_id: uuid.UUID = Field(sa_column=Column(ForeignKey("users.id"), nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    phone_hash: str = Field(sa_column=Column(String(64), nullable=False))
    phone_masked: str = Field(sa_column=Column(String(16), nullable=False))
    provider: str = Field(sa_column=Column(String(40), nullable=False))
    verification: str = Field(sa_column=Column(String(200), nullable=False))
    signed_at: datetime = Field(sa_column=timestamp_column())
