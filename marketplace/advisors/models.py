"""One-to-one advisors for approved buyers, and the messages between them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from shared.db import created_now, timestamp_column


class AdvisorAssignment(SQLModel, table=True):
    __tablename__ = "advisor_assignments"

    buyer_id: uuid.UUID = Field(sa_column=Column(ForeignKey("users.id"), primary_key=True))
    advisor_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("users.id"), nullable=False, index=True)
    )
    assigned_at: datetime = created_now()
    # When the advisor last opened the conversation: the buyer's later messages are unread.
    advisor_read_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True)
    )


class AdvisorLoad(SQLModel, table=True):
    """How many buyers an advisor has: one row per advisor, written with each assignment, so
    choosing the least-loaded advisor reads a row per advisor, not every assignment."""

    __tablename__ = "advisor_loads"
    __table_args__ = (CheckConstraint("buyers >= 0", name="ck_advisor_loads_buyers_not_negative"),)

    advisor_id: uuid.UUID = Field(sa_column=Column(ForeignKey("users.id"), primary_key=True))
    buyers: int = Field(sa_column=Column(Integer, nullable=False))


class Message(SQLModel, table=True):
    __tablename__ = "advisor_messages"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    buyer_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("users.id"), nullable=False, index=True)
    )
    advisor_id: uuid.UUID = Field(sa_column=Column(ForeignKey("users.id"), nullable=False))
    sender: str = Field(sa_column=Column(String(16), nullable=False))  # buyer | advisor
    body: str = Field(sa_column=Column(Text, nullable=False))
    sent_at: datetime = created_now()


class HandledAlert(SQLModel, table=True):
    """A diversion alert (a dealer's look-up of the buyer's approval) the advisor has dealt with."""

    __tablename__ = "advisor_alerts_handled"

    lookup_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("preapproval_lookups.id"), primary_key=True)
    )
    advisor_id: uuid.UUID = Field(sa_column=Column(ForeignKey("users.id"), nullable=False))
    handled_at: datetime = created_now()
