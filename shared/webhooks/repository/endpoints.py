"""What an organisation manages: its endpoints and their delivery log, and a delivery sent
again. Every query takes the organisation's id as a required argument."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.pagination import paginate
from shared.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)


async def add_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    session.add(endpoint)
    await session.flush()
    return endpoint


async def organization_endpoints(
    session: AsyncSession, *, organization_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[WebhookEndpoint], int]:
    return await paginate(
        session,
        select(WebhookEndpoint)
        .where(col(WebhookEndpoint.organization_id) == organization_id)
        .order_by(col(WebhookEndpoint.created_at).desc(), col(WebhookEndpoint.id)),
        limit=limit,
        offset=offset,
    )


async def organization_endpoint(
    session: AsyncSession, endpoint_id: uuid.UUID, *, organization_id: uuid.UUID
) -> WebhookEndpoint | None:
    return await session.scalar(
        select(WebhookEndpoint).where(
            col(WebhookEndpoint.id) == endpoint_id,
            col(WebhookEndpoint.organization_id) == organization_id,
        )
    )


async def set_endpoint(
    session: AsyncSession,
    endpoint_id: uuid.UUID,
    *,
    organization_id: uuid.UUID,
    values: dict[str, Any],
) -> WebhookEndpoint | None:
    return await session.scalar(
        update(WebhookEndpoint)
        .where(
            col(WebhookEndpoint.id) == endpoint_id,
            col(WebhookEndpoint.organization_id) == organization_id,
        )
        .values(**values)
        .returning(WebhookEndpoint)
        .execution_options(populate_existing=True)
    )


async def delete_endpoint(
    session: AsyncSession, endpoint_id: uuid.UUID, *, organization_id: uuid.UUID
) -> bool:
    deleted = await session.execute(
        delete(WebhookEndpoint)
        .where(
            col(WebhookEndpoint.id) == endpoint_id,
            col(WebhookEndpoint.organization_id) == organization_id,
        )
        .returning(col(WebhookEndpoint.id))
    )
    return deleted.first() is not None


@dataclass(frozen=True)
class DeliveryView:
    delivery: WebhookDelivery
    event: WebhookEvent
    attempts: list[WebhookAttempt]


async def endpoint_deliveries(
    session: AsyncSession,
    endpoint_id: uuid.UUID,
    *,
    organization_id: uuid.UUID,
    limit: int,
    offset: int,
) -> tuple[list[DeliveryView], int]:
    """The endpoint's deliveries, newest first, each with its event and attempts."""
    rows, total = await paginate(
        session,
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(
            col(WebhookDelivery.endpoint_id) == endpoint_id,
            col(WebhookDelivery.organization_id) == organization_id,
        )
        .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id)),
        limit=limit,
        offset=offset,
    )
    attempts = await _attempts(session, [delivery.id for delivery, _ in rows])
    views = [
        DeliveryView(delivery, event, attempts.get(delivery.id, [])) for delivery, event in rows
    ]
    return views, total


async def organization_delivery(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    *,
    endpoint_id: uuid.UUID,
    organization_id: uuid.UUID,
) -> DeliveryView | None:
    row = (
        await session.execute(
            select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
            .where(
                col(WebhookDelivery.id) == delivery_id,
                col(WebhookDelivery.endpoint_id) == endpoint_id,
                col(WebhookDelivery.organization_id) == organization_id,
            )
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        return None
    attempts = await _attempts(session, [delivery_id])
    return DeliveryView(row[0], row[1], attempts.get(delivery_id, []))


async def _attempts(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    if not delivery_ids:
        return {}
    rows = await session.scalars(
        select(WebhookAttempt)
        .where(col(WebhookAttempt.delivery_id).in_(delivery_ids))
        .order_by(col(WebhookAttempt.id))
    )
    grouped: dict[uuid.UUID, list[WebhookAttempt]] = {}
    for attempt in rows:
        grouped.setdefault(attempt.delivery_id, []).append(attempt)
    return grouped


async def requeue_delivery(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    *,
    endpoint_id: uuid.UUID,
    organization_id: uuid.UUID,
    now: datetime,
) -> bool:
    """Owe the delivery again, due now, with a fresh day of retries (a manual redelivery)."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.endpoint_id) == endpoint_id,
            col(WebhookDelivery.organization_id) == organization_id,
        )
        .values(
            status=DeliveryStatus.pending,
            next_attempt_at=now,
            retrying_since=now,
            leased_until=None,  # an attempt in flight no longer decides the outcome
        )
        .returning(col(WebhookDelivery.id))
    )
    return result.first() is not None
