"""The worker's SQL: due deliveries leased one worker at a time, attempts recorded, retries
scheduled, endpoints' health, and old events purged. It acts for the platform, by delivery id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)


async def give_up_pending(session: AsyncSession, endpoint_id: uuid.UUID) -> int:
    """Stop retrying everything still owed to a disabled endpoint."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.endpoint_id) == endpoint_id,
            col(WebhookDelivery.status) == DeliveryStatus.pending,
        )
        .values(status=DeliveryStatus.failed, next_attempt_at=None)
        .returning(col(WebhookDelivery.id))
    )
    return len(result.all())


async def due_deliveries(session: AsyncSession, *, now: datetime, limit: int) -> list[uuid.UUID]:
    """Deliveries due an attempt that no worker is sending, oldest first."""
    rows = await session.scalars(
        select(col(WebhookDelivery.id))
        .where(
            col(WebhookDelivery.status) == DeliveryStatus.pending,
            col(WebhookDelivery.next_attempt_at) <= now,
            (col(WebhookDelivery.leased_until).is_(None))
            | (col(WebhookDelivery.leased_until) < now),
        )
        .order_by(col(WebhookDelivery.next_attempt_at))
        .limit(limit)
    )
    return list(rows)


@dataclass(frozen=True)
class LeasedDelivery:
    lease: datetime
    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    url: str
    secret_encrypted: str
    event_id: uuid.UUID
    event_type: str
    event_created: datetime
    data: dict[str, Any]
    retrying_since: datetime
    failing_since: datetime | None


async def lease_delivery(
    session: AsyncSession, delivery_id: uuid.UUID, *, now: datetime, until: datetime
) -> LeasedDelivery | None:
    """Take the delivery for one attempt if it is due, unleased and its endpoint enabled; None
    otherwise (another worker has it, it was delivered, or it is not due yet)."""
    leased = await session.scalar(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.status) == DeliveryStatus.pending,
            col(WebhookDelivery.next_attempt_at) <= now,
            (col(WebhookDelivery.leased_until).is_(None))
            | (col(WebhookDelivery.leased_until) < now),
        )
        .values(leased_until=until)
        .returning(col(WebhookDelivery.id))
    )
    if leased is None:
        return None
    row = (
        await session.execute(
            select(
                col(WebhookDelivery.id),
                col(WebhookEndpoint.id),
                col(WebhookEndpoint.url),
                col(WebhookEndpoint.secret_encrypted),
                col(WebhookEvent.id),
                col(WebhookEvent.type),
                col(WebhookEvent.created_at),
                col(WebhookEvent.data),
                col(WebhookDelivery.retrying_since),
                col(WebhookEndpoint.failing_since),
                col(WebhookEndpoint.enabled),
            )
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
            .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
            .where(col(WebhookDelivery.id) == delivery_id)
        )
    ).one()
    if not row[-1]:  # the endpoint was disabled since
        await give_up_pending(session, row[1])
        return None
    return LeasedDelivery(until, *row[:-1])


async def record_attempt(session: AsyncSession, attempt: WebhookAttempt) -> None:
    session.add(attempt)
    await session.flush()


async def failed_attempts(
    session: AsyncSession, delivery_id: uuid.UUID, *, since: datetime
) -> tuple[int, datetime]:
    """How many attempts at the delivery failed since its retries began (this one included),
    and when the first of them was made."""
    count, first = (
        await session.execute(
            select(func.count(), func.min(col(WebhookAttempt.attempted_at))).where(
                col(WebhookAttempt.delivery_id) == delivery_id,
                col(WebhookAttempt.error).is_not(None),
                col(WebhookAttempt.attempted_at) >= since,
            )
        )
    ).one()
    return count, first


async def mark_delivered(
    session: AsyncSession, delivery_id: uuid.UUID, *, lease: datetime, now: datetime
) -> None:
    """Delivered, unless the lease was lost meanwhile (a redelivery asked for another send)."""
    await session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.id) == delivery_id, col(WebhookDelivery.leased_until) == lease)
        .values(
            status=DeliveryStatus.succeeded,
            delivered_at=now,
            next_attempt_at=None,
            leased_until=None,
        )
    )


async def schedule_retry(
    session: AsyncSession, delivery_id: uuid.UUID, *, lease: datetime, at: datetime | None
) -> None:
    """After a failed attempt: due again ``at``, or given up (``None``); nothing if the lease
    was lost meanwhile."""
    values: dict[str, Any] = {"next_attempt_at": at, "leased_until": None}
    if at is None:
        values["status"] = DeliveryStatus.failed
    await session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.id) == delivery_id, col(WebhookDelivery.leased_until) == lease)
        .values(**values)
    )


async def endpoint_succeeded(session: AsyncSession, endpoint_id: uuid.UUID) -> None:
    await session.execute(
        update(WebhookEndpoint)
        .where(
            col(WebhookEndpoint.id) == endpoint_id,
            col(WebhookEndpoint.failing_since).is_not(None),
        )
        .values(failing_since=None)
    )


async def endpoint_failed(
    session: AsyncSession, endpoint_id: uuid.UUID, *, now: datetime
) -> datetime:
    """Note a failure; when the endpoint's failures began (now, unless they had already)."""
    since: datetime | None = await session.scalar(
        update(WebhookEndpoint)
        .where(col(WebhookEndpoint.id) == endpoint_id)
        .values(failing_since=func.coalesce(col(WebhookEndpoint.failing_since), now))
        .returning(col(WebhookEndpoint.failing_since))
    )
    assert since is not None
    return since


async def disable_failing_endpoint(session: AsyncSession, endpoint_id: uuid.UUID) -> bool:
    """Disable an endpoint that has failed for too long; True if this call did."""
    result = await session.execute(
        update(WebhookEndpoint)
        .where(col(WebhookEndpoint.id) == endpoint_id, col(WebhookEndpoint.enabled))
        .values(enabled=False, disabled_reason="failing")
        .returning(col(WebhookEndpoint.id))
    )
    return result.first() is not None


async def purge_events(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete events older than ``older_than`` with nothing still owed, with their delivery
    logs (the daily jobs); how many events."""
    still_owed = (
        select(col(WebhookDelivery.id))
        .where(
            col(WebhookDelivery.event_id) == col(WebhookEvent.id),
            col(WebhookDelivery.status) == DeliveryStatus.pending,
        )
        .exists()
    )
    old = select(col(WebhookEvent.id)).where(col(WebhookEvent.created_at) < older_than, ~still_owed)
    await session.execute(
        delete(WebhookDelivery).where(col(WebhookDelivery.event_id).in_(old.scalar_subquery()))
    )
    purged = await session.execute(
        delete(WebhookEvent)
        .where(col(WebhookEvent.id).in_(old.scalar_subquery()))
        .returning(col(WebhookEvent.id))
    )
    return len(purged.all())
