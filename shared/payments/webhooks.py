"""Stripe webhooks: verified on the raw body, stored once, applied once.

``POST /v1/stripe/webhook`` checks the ``Stripe-Signature`` header against our signing secret
(5 minutes of tolerance), then, in the request's one transaction, inserts the event with
``ON CONFLICT (id) DO NOTHING`` and, only if this request inserted it, runs the handler a domain
registered for it. The handler's writes and the event row commit together: a crash leaves the
event unstored, so Stripe's retry applies it; a duplicate delivery (even a concurrent one, which
waits on the event's primary key until the first commits) finds the row and changes nothing.

Handlers are keyed by event type and the PaymentIntent's ``metadata.purpose``. Each domain
exposes a ``register(handlers)`` function and the composition root (``autofin.main``) calls it
(``shared`` never imports a domain, and nothing registers as a side effect of an import)::

    async def mark_paid(session: AsyncSession, event: StripeEvent) -> None:
        ...  # conditional updates in ``session``; never commit

    def register(handlers: WebhookHandlers) -> None:
        handlers.register("payment_intent.succeeded", mark_paid, purpose="down_payment")

Events nobody handles are stored (``processed_at`` stays empty) and acknowledged with 200.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import SessionDep
from shared.errors import error_responses
from shared.observability import event as log_event
from shared.payments import repository
from shared.payments.gateway import InvalidSignature, PaymentGatewayDep


@dataclass(frozen=True)
class StripeEvent:
    """A verified Stripe event, as handlers see it."""

    id: str
    type: str
    created: datetime | None
    data_object: dict[str, Any]
    payload: dict[str, Any]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> StripeEvent:
        data = payload.get("data")
        data_object = data.get("object") if isinstance(data, dict) else None
        created = payload.get("created")
        return cls(
            id=str(payload["id"]),
            type=str(payload["type"]),
            created=datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None,
            data_object=data_object if isinstance(data_object, dict) else {},
            payload=payload,
        )

    @property
    def object_id(self) -> str | None:
        """The id of the object the event is about (``pi_…`` for payment intents)."""
        value = self.data_object.get("id")
        return value if isinstance(value, str) else None

    @property
    def metadata(self) -> dict[str, str]:
        metadata = self.data_object.get("metadata")
        if not isinstance(metadata, dict):
            return {}
        return {str(k): str(v) for k, v in metadata.items()}

    @property
    def payment_error(self) -> dict[str, Any]:
        """The object's ``last_payment_error`` (Stripe's ``code``, ``decline_code`` and safe
        ``message`` of a failed payment; never card data), or ``{}``."""
        error = self.data_object.get("last_payment_error")
        return error if isinstance(error, dict) else {}

    @property
    def purpose(self) -> str | None:
        """``metadata.purpose`` of the object, set by whoever created it (``down_payment``)."""
        return self.metadata.get("purpose")


WebhookHandler = Callable[[AsyncSession, StripeEvent], Awaitable[None]]


class WebhookHandlers:
    """Which handler applies which event: by type, and by ``metadata.purpose`` when given."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str | None], WebhookHandler] = {}

    def register(
        self, event_type: str, handler: WebhookHandler, *, purpose: str | None = None
    ) -> None:
        """Register ``handler``; re-registering the same one is harmless (imports repeat)."""
        existing = self._handlers.get((event_type, purpose))
        if existing is not None and existing is not handler:
            raise ValueError(f"a handler for {event_type} (purpose={purpose}) is registered")
        self._handlers[(event_type, purpose)] = handler

    def unregister(self, event_type: str, *, purpose: str | None = None) -> None:
        self._handlers.pop((event_type, purpose), None)

    def handler_for(self, event: StripeEvent) -> WebhookHandler | None:
        """The purpose-specific handler, else one registered for the whole event type."""
        if event.purpose is not None:
            specific = self._handlers.get((event.type, event.purpose))
            if specific is not None:
                return specific
        return self._handlers.get((event.type, None))


webhook_handlers = WebhookHandlers()
"""The process's handlers, filled in by the composition root (tests add their own)."""


async def record_and_apply(
    session: AsyncSession, payload: dict[str, Any], handlers: WebhookHandlers | None = None
) -> bool:
    """Store a verified event and apply it, in the caller's transaction, unless it was already
    stored; True when this call applied (or, with no handler, first stored) it."""
    stripe_event = StripeEvent.from_payload(payload)
    if not await repository.record_event(session, stripe_event.id, stripe_event.type, payload):
        log_event("stripe.event_duplicate", stripe_event_id=stripe_event.id)
        return False
    handler = (handlers or webhook_handlers).handler_for(stripe_event)
    if handler is None:
        log_event("stripe.event_unhandled", stripe_event_id=stripe_event.id, type=stripe_event.type)
        return True
    await handler(session, stripe_event)
    await repository.mark_event_processed(session, stripe_event.id)
    log_event("stripe.event_applied", stripe_event_id=stripe_event.id, type=stripe_event.type)
    return True


class WebhookReceipt(BaseModel):
    received: bool
    duplicate: bool


router = APIRouter(tags=["stripe"])


@router.post(
    "/v1/stripe/webhook",
    responses=error_responses(InvalidSignature),
    summary="Receive a Stripe event",
)
async def receive_stripe_event(
    request: Request,
    session: SessionDep,
    gateway: PaymentGatewayDep,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookReceipt:
    """Verify a Stripe event on its raw body, store it once and apply it once."""
    payload = gateway.verify_webhook(await request.body(), stripe_signature)
    applied = await record_and_apply(session, payload)
    return WebhookReceipt(received=True, duplicate=not applied)
