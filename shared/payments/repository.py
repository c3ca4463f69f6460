"""SQL for the Stripe events as received: each stored once, by Stripe's event id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.db import utcnow
from shared.payments.models import StripeEventRecord


async def record_event(
    session: AsyncSession, event_id: str, event_type: str, payload: dict[str, Any]
) -> bool:
    """Store the event unless it is stored already; True when this call stored it."""
    inserted = await session.execute(
        insert(StripeEventRecord)
        .values(id=event_id, type=event_type, payload=payload, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(col(StripeEventRecord.id))
    )
    return inserted.scalar_one_or_none() is not None


async def mark_event_processed(session: AsyncSession, event_id: str) -> None:
    await session.execute(
        update(StripeEventRecord)
        .where(col(StripeEventRecord.id) == event_id)
        .values(processed_at=utcnow())
    )
