"""Webhook settings for lenders and dealers: the same routes under ``/v1/lender`` and
``/v1/dealer``, each acting on the caller's organisation only."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from shared.db import SessionDep
from shared.errors import error_responses
from shared.identity.models import OrganizationKind
from shared.identity.principal import Principal, require_role
from shared.pagination import Page, PageDep
from shared.webhooks import service
from shared.webhooks.exceptions import (
    WebhookDeliveryNotFound,
    WebhookEndpointDisabled,
    WebhookEndpointNotFound,
    WebhookUrlRefused,
)
from shared.webhooks.models import WebhookEndpoint
from shared.webhooks.repository import DeliveryView
from shared.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    EndpointCreate,
    EndpointCreated,
    EndpointOut,
    EndpointUpdate,
)


def _delivery(view: DeliveryView) -> DeliveryOut:
    delivery, event = view.delivery, view.event
    return DeliveryOut(
        id=delivery.id,
        event_id=event.id,
        event_type=event.type,
        event_created=event.created_at,
        data=event.data,
        status=delivery.status,
        attempt_count=len(view.attempts),
        next_attempt_at=delivery.next_attempt_at,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
        attempts=[AttemptOut.model_validate(attempt) for attempt in view.attempts],
    )


def _endpoint(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut.model_validate(endpoint)


def _routes(prefix: str, role: str) -> APIRouter:
    """The settings routes for one audience (annotations are evaluated here, at definition:
    no ``from __future__ import annotations`` in this module)."""
    router = APIRouter(prefix=f"{prefix}/webhook-endpoints", tags=[role, "webhooks"])
    tag = role
    Owner = Annotated[Principal, require_role(role)]  # noqa: N806

    @router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        responses=error_responses(WebhookUrlRefused),
        operation_id=f"{tag}_create_webhook_endpoint",
    )
    async def create_endpoint(
        body: EndpointCreate, owner: Owner, session: SessionDep
    ) -> EndpointCreated:
        """Register an endpoint for the chosen event types; the answer holds its signing
        secret, shown this once."""
        endpoint, secret = await service.create_endpoint(session, owner, body)
        return EndpointCreated(**_endpoint(endpoint).model_dump(), secret=secret)

    @router.get("", operation_id=f"{tag}_list_webhook_endpoints")
    async def list_endpoints(owner: Owner, session: SessionDep, page: PageDep) -> Page[EndpointOut]:
        """The organisation's endpoints, newest first (secrets are never shown again)."""
        found, total = await service.list_endpoints(session, owner, page)
        items = [_endpoint(endpoint) for endpoint in found]
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)

    @router.get(
        "/{endpoint_id}",
        responses=error_responses(WebhookEndpointNotFound),
        operation_id=f"{tag}_get_webhook_endpoint",
    )
    async def get_endpoint(
        endpoint_id: uuid.UUID, owner: Owner, session: SessionDep
    ) -> EndpointOut:
        return _endpoint(await service.get_endpoint(session, owner, endpoint_id))

    @router.patch(
        "/{endpoint_id}",
        responses=error_responses(WebhookEndpointNotFound),
        operation_id=f"{tag}_update_webhook_endpoint",
    )
    async def update_endpoint(
        endpoint_id: uuid.UUID, body: EndpointUpdate, owner: Owner, session: SessionDep
    ) -> EndpointOut:
        """Disable (``enabled: false``; what is still owed is given up), enable again, or
        change the event types."""
        return _endpoint(await service.update_endpoint(session, owner, endpoint_id, body))

    @router.delete(
        "/{endpoint_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=error_responses(WebhookEndpointNotFound),
        operation_id=f"{tag}_delete_webhook_endpoint",
    )
    async def delete_endpoint(
        endpoint_id: uuid.UUID, owner: Owner, session: SessionDep
    ) -> Response:
        """Delete the endpoint and its delivery log."""
        await service.delete_endpoint(session, owner, endpoint_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get(
        "/{endpoint_id}/deliveries",
        responses=error_responses(WebhookEndpointNotFound),
        operation_id=f"{tag}_list_webhook_deliveries",
    )
    async def list_deliveries(
        endpoint_id: uuid.UUID, owner: Owner, session: SessionDep, page: PageDep
    ) -> Page[DeliveryOut]:
        """The delivery log, newest first: each event sent to this endpoint, its state and
        every attempt (status code, duration, error)."""
        found, total = await service.list_deliveries(session, owner, endpoint_id, page)
        items = [_delivery(view) for view in found]
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)

    @router.post(
        "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
        status_code=status.HTTP_202_ACCEPTED,
        responses=error_responses(
            WebhookEndpointNotFound, WebhookDeliveryNotFound, WebhookEndpointDisabled
        ),
        operation_id=f"{tag}_redeliver_webhook",
    )
    async def redeliver(
        endpoint_id: uuid.UUID, delivery_id: uuid.UUID, owner: Owner, session: SessionDep
    ) -> DeliveryOut:
        """Send this delivery's event again now (the worker sends it; it is retried as a new
        delivery would be)."""
        return _delivery(await service.redeliver(session, owner, endpoint_id, delivery_id))

    return router


lender_router = _routes("/v1/lender", OrganizationKind.lender.value)
dealer_router = _routes("/v1/dealer", OrganizationKind.dealer.value)
