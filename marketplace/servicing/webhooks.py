"""Stripe events for repayments (``metadata.purpose == "repayment"``); ``register`` wires them.

Handlers run in the webhook's transaction and never commit; crediting is exactly once because
``apply_succeeded_payment`` first moves the payment ``processing → succeeded`` conditionally.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing import crediting, repayments, repository
from shared.observability import event
from shared.payments.webhooks import StripeEvent, WebhookHandlers


def _payment_id(stripe_event: StripeEvent) -> uuid.UUID | None:
    try:
        return uuid.UUID(stripe_event.metadata.get("payment_id", ""))
    except ValueError:
        return None


async def _known_payment(session: AsyncSession, stripe_event: StripeEvent) -> uuid.UUID | None:
    """Our payment the event is about, if the event matches it (id and amount)."""
    payment_id = _payment_id(stripe_event)
    payment = await repository.get_payment(session, payment_id) if payment_id else None
    if payment is None:
        event("loan_payment.unknown_intent", payment_intent_id=stripe_event.object_id)
        return None
    amount = stripe_event.data_object.get("amount")
    intent_id = stripe_event.object_id
    if amount != payment.amount or (
        payment.payment_intent_id is not None and payment.payment_intent_id != intent_id
    ):
        event(
            "loan_payment.intent_mismatch",
            payment_id=str(payment.id),
            payment_intent_id=intent_id,
        )
        return None
    return payment.id


async def repayment_succeeded(session: AsyncSession, stripe_event: StripeEvent) -> None:
    payment_id = await _known_payment(session, stripe_event)
    if payment_id is not None:
        await crediting.apply_succeeded_payment(
            session, payment_id, payment_intent_id=stripe_event.object_id
        )


async def repayment_failed(session: AsyncSession, stripe_event: StripeEvent) -> None:
    payment_id = await _known_payment(session, stripe_event)
    if payment_id is None:
        return
    code = stripe_event.payment_error.get("code")
    await crediting.mark_payment_failed(
        session, payment_id, failure_code=code if isinstance(code, str) else None
    )


def register(handlers: WebhookHandlers) -> None:
    """Have ``handlers`` apply the events about repayments."""
    handlers.register(
        "payment_intent.succeeded", repayment_succeeded, purpose=repayments.REPAYMENT_PURPOSE
    )
    handlers.register(
        "payment_intent.payment_failed", repayment_failed, purpose=repayments.REPAYMENT_PURPOSE
    )
