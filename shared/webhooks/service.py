"""Rules of the webhook settings: who may register what, and what a redelivery means."""

from __future__ import annotations

import ipaddress
import uuid

from pydantic import AnyHttpUrl
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit, pii
from shared.db import utcnow
from shared.identity.principal import Principal
from shared.pagination import PageParams
from shared.settings import get_settings
from shared.webhooks import outbox, repository, signing
from shared.webhooks.exceptions import (
    WebhookDeliveryNotFound,
    WebhookEndpointDisabled,
    WebhookEndpointNotFound,
    WebhookUrlRefused,
)
from shared.webhooks.models import EventType, WebhookEndpoint
from shared.webhooks.schemas import EndpointCreate, EndpointUpdate

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_url(url: AnyHttpUrl, *, production: bool) -> str:
    """The URL to store, or ``WebhookUrlRefused``: https everywhere; in development also plain
    http to this machine (a local receiver). Production refuses this machine and private
    networks by name or address, so an endpoint cannot make the platform call inside itself."""
    host = (url.host or "").lower().rstrip(".")
    address = _address(host)
    local = host in _LOOPBACK_NAMES or (address is not None and address.is_loopback)
    if production:
        internal = address is not None and (
            address.is_private or address.is_link_local or address.is_reserved
        )
        if url.scheme != "https":
            raise WebhookUrlRefused(field="url")
        if local or internal or address is not None and address.is_unspecified:
            raise WebhookUrlRefused(field="url", variant="internal")
    elif url.scheme != "https" and not local:
        raise WebhookUrlRefused(field="url")
    return str(url)


def _events(events: list[EventType]) -> list[str]:
    return sorted({event.value for event in events})


async def create_endpoint(
    session: AsyncSession, owner: Principal, body: EndpointCreate
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for the caller's organisation; it and its secret (shown once)."""
    url = check_url(body.url, production=get_settings().is_production)
    secret = signing.new_secret()
    endpoint = await repository.add_endpoint(
        session,
        WebhookEndpoint(
            organization_id=owner.org_id,
            url=url,
            events=_events(body.events),
            secret_encrypted=pii.encrypt(secret),
        ),
    )
    audit.record(
        session,
        actor=owner,
        action="webhook_endpoint.created",
        subject_type="webhook_endpoint",
        subject_id=endpoint.id,
        after={"events": endpoint.events},
    )
    return endpoint, secret


async def list_endpoints(
    session: AsyncSession, owner: Principal, page: PageParams
) -> tuple[list[WebhookEndpoint], int]:
    return await repository.organization_endpoints(
        session, organization_id=owner.org_id, limit=page.limit, offset=page.offset
    )


async def get_endpoint(
    session: AsyncSession, owner: Principal, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    endpoint = await repository.organization_endpoint(
        session, endpoint_id, organization_id=owner.org_id
    )
    if endpoint is None:
        raise WebhookEndpointNotFound()
    return endpoint


async def update_endpoint(
    session: AsyncSession, owner: Principal, endpoint_id: uuid.UUID, body: EndpointUpdate
) -> WebhookEndpoint:
    """Enable (failures forgotten), disable (what is still owed is given up) or re-subscribe."""
    values: dict[str, object] = {}
    if body.events is not None:
        values["events"] = _events(body.events)
    if body.enabled is True:
        values.update(enabled=True, disabled_reason=None, failing_since=None)
    elif body.enabled is False:
        values.update(enabled=False, disabled_reason="manual")
    if not values:
        return await get_endpoint(session, owner, endpoint_id)
    endpoint = await repository.set_endpoint(
        session, endpoint_id, organization_id=owner.org_id, values=values
    )
    if endpoint is None:
        raise WebhookEndpointNotFound()
    if body.enabled is False:
        await repository.give_up_pending(session, endpoint_id)
    audit.record(
        session,
        actor=owner,
        action="webhook_endpoint.updated",
        subject_type="webhook_endpoint",
        subject_id=endpoint_id,
        after={key: value for key, value in values.items() if key in ("enabled", "events")},
    )
    return endpoint


async def delete_endpoint(session: AsyncSession, owner: Principal, endpoint_id: uuid.UUID) -> None:
    if not await repository.delete_endpoint(session, endpoint_id, organization_id=owner.org_id):
        raise WebhookEndpointNotFound()
    audit.record(
        session,
        actor=owner,
        action="webhook_endpoint.deleted",
        subject_type="webhook_endpoint",
        subject_id=endpoint_id,
    )


async def list_deliveries(
    session: AsyncSession, owner: Principal, endpoint_id: uuid.UUID, page: PageParams
) -> tuple[list[repository.DeliveryView], int]:
    await get_endpoint(session, owner, endpoint_id)  # another organisation's: 404
    return await repository.endpoint_deliveries(
        session,
        endpoint_id,
        organization_id=owner.org_id,
        limit=page.limit,
        offset=page.offset,
    )


async def redeliver(
    session: AsyncSession, owner: Principal, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> repository.DeliveryView:
    """Send the delivery's event again, now, with a fresh day of retries (the worker picks it
    up; a delivery already due simply stays due)."""
    endpoint = await get_endpoint(session, owner, endpoint_id)
    if not endpoint.enabled:
        raise WebhookEndpointDisabled()
    requeued = await repository.requeue_delivery(
        session, delivery_id, endpoint_id=endpoint_id, organization_id=owner.org_id, now=utcnow()
    )
    if not requeued:
        raise WebhookDeliveryNotFound()
    await outbox.wake_worker(session)
    audit.record(
        session,
        actor=owner,
        action="webhook_delivery.redelivered",
        subject_type="webhook_delivery",
        subject_id=delivery_id,
    )
    view = await repository.organization_delivery(
        session, delivery_id, endpoint_id=endpoint_id, organization_id=owner.org_id
    )
    assert view is not None
    return view
