"""The outbox's SQL: an event recorded with what is owed to each subscribed endpoint, and the
worker woken (``shared.webhooks.outbox`` says when to call them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# One statement: the event, a delivery per enabled endpoint of these organisations subscribed to
# the type, and a notification for the worker when any delivery was written.
_EMIT = text(
    """
    WITH event AS (
        INSERT INTO webhook_events (id, type, data, organization_ids, created_at)
        VALUES (:id, :type, CAST(:data AS jsonb), CAST(:organization_ids AS uuid[]),
                clock_timestamp())
        RETURNING id
    ), deliveries AS (
        INSERT INTO webhook_deliveries (id, event_id, endpoint_id, organization_id, status,
                                        next_attempt_at, retrying_since, created_at)
        SELECT gen_random_uuid(), event.id, endpoint.id, endpoint.organization_id, 'pending',
               now(), now(), now()
        FROM event, webhook_endpoints AS endpoint
        WHERE endpoint.organization_id = ANY(CAST(:organization_ids AS uuid[]))
          AND endpoint.enabled
          AND CAST(:type AS varchar) = ANY(endpoint.events)
        RETURNING id
    )
    SELECT pg_notify(:channel, '') FROM (SELECT 1 FROM deliveries LIMIT 1) AS any_delivery
    """
)


async def record_event(
    session: AsyncSession,
    *,
    event_id: uuid.UUID,
    event_type: str,
    data: str,
    organization_ids: Sequence[uuid.UUID],
    channel: str,
) -> None:
    """Insert the event (``data`` is its JSON) and a pending delivery for each enabled endpoint
    of these organisations subscribed to its type, notifying ``channel`` when any was written."""
    await session.execute(
        _EMIT,
        {
            "id": event_id,
            "type": event_type,
            "data": data,
            "organization_ids": list(organization_ids),
            "channel": channel,
        },
    )


async def notify_worker(session: AsyncSession, channel: str) -> None:
    """Notify ``channel`` when the caller's transaction commits."""
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})
