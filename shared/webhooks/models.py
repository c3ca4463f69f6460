"""Webhook endpoints, the events written for them (the outbox), their deliveries and attempts.

An event is stored with one delivery row per subscribed endpoint in the transaction that made
the change, so committing the change commits the promise to deliver it; the worker turns due
deliveries into queued jobs and records every attempt.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlmodel import Field, SQLModel

from shared.db import created_now


class EventType(StrEnum):
    deal_submitted = "deal.submitted"
    deal_decision_required = "deal.decision_required"
    deal_signed = "deal.signed"
    deal_handed_over = "deal.handed_over"
    loan_funded = "loan.funded"
    payment_succeeded = "payment.succeeded"
    loan_delinquent = "loan.delinquent"
    loan_paid_off = "loan.paid_off"
    loan_collateral_registered = "loan.collateral_registered"
    loan_collateral_overdue = "loan.collateral_overdue"
    loan_collateral_release_issued = "loan.collateral_release_issued"
    loan_collateral_released = "loan.collateral_released"


class DeliveryStatus(StrEnum):
    pending = "pending"  # an attempt is due at next_attempt_at
    succeeded = "succeeded"
    failed = "failed"  # given up: a day of failures, or the endpoint was disabled


class WebhookEndpoint(SQLModel, table=True):
    """Where an organisation wants events of the types it picked; the signing secret is stored
    encrypted (it must be read back to sign) and shown to the organisation once."""

    __tablename__ = "webhook_endpoints"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("organizations.id"), nullable=False, index=True)
    )
    url: str = Field(sa_column=Column(Text, nullable=False))  # length checked by the schema
    events: list[str] = Field(sa_column=Column(ARRAY(String(64)), nullable=False))
    secret_encrypted: str = Field(sa_column=Column(Text, nullable=False), repr=False)
    enabled: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    # "manual" (the organisation disabled it) or "failing" (a day of failed deliveries).
    disabled_reason: str | None = Field(default=None, sa_column=Column(String(16)))
    # The first failure since the last success; a day later the endpoint is disabled.
    failing_since: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime = created_now()


class WebhookEvent(SQLModel, table=True):
    """One change worth telling organisations about: ``{id, type, created, data}``."""

    __tablename__ = "webhook_events"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    type: str = Field(sa_column=Column(String(64), nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    organization_ids: list[uuid.UUID] = Field(
        sa_column=Column(ARRAY(UUID(as_uuid=True)), nullable=False)
    )
    created_at: datetime = created_now()


class WebhookDelivery(SQLModel, table=True):
    """One event owed to one endpoint, until it is delivered or given up on."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        # What the worker looks for: deliveries due an attempt.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    event_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("webhook_events.id"), nullable=False, index=True)
    )
    endpoint_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False)
    )
    organization_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("organizations.id"), nullable=False)
    )
    status: str = Field(
        default=DeliveryStatus.pending, sa_column=Column(String(16), nullable=False)
    )
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    # Held by the worker sending it; a worker that died mid-attempt lets it lapse.
    leased_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # Retries stop a day (the worker's policy) after this: the event, or a manual redelivery.
    retrying_since: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime = created_now()


class WebhookAttempt(SQLModel, table=True):
    """One HTTP attempt: what the endpoint answered (never the secret or the signature)."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    delivery_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    attempted_at: datetime = created_now()
    status_code: int | None = Field(default=None, sa_column=Column(Integer))
    duration_ms: int = Field(sa_column=Column(Integer, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(String(300)))
