"""Stripe events as received: each stored once, by Stripe's event id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import created_now


class StripeEventRecord(SQLModel, table=True):
    """A webhook event; ``processed_at`` is set when a registered handler applied it."""

    __tablename__ = "stripe_events"

    id: str = Field(sa_column=Column(String(255), primary_key=True))
    type: str = Field(sa_column=Column(String(100), nullable=False, index=True))
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    received_at: datetime = created_now()
    processed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
