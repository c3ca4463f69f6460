"""Stripe events about down payments: paid → the deal is handed over; failed → the dealer sees why.

Each event is stored and applied once by ``shared.payments.webhooks`` (duplicates change
nothing). Different events about one PaymentIntent can arrive in any order, so every effect here
is a conditional UPDATE on the deal's current state: a success after a failure hands the deal
over; a failure after a success changes nothing; a success after the deal was cancelled marks
the money as owed back (``refund_due``) instead of handing the car over.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import repository
from dealer_portal.decisions import gate
from dealer_portal.funding import service as funding_service
from dealer_portal.handover import DOWN_PAYMENT_PURPOSE
from marketplace.servicing import service as servicing_service
from shared import audit
from shared.db import utcnow
from shared.observability import event
from shared.payments.webhooks import StripeEvent, WebhookHandlers

_MESSAGE_LENGTH = 300


def _deal_id(stripe_event: StripeEvent) -> uuid.UUID | None:
    try:
        return uuid.UUID(stripe_event.metadata.get("deal_id", ""))
    except ValueError:
        return None


async def down_payment_succeeded(session: AsyncSession, stripe_event: StripeEvent) -> None:
    """The down payment is paid: hand the deal over (see ``record_down_payment_paid``)."""
    deal_id, intent_id = _deal_id(stripe_event), stripe_event.object_id
    amount = stripe_event.data_object.get("amount")
    if deal_id is None or intent_id is None or not isinstance(amount, int):
        event("deal.down_payment_event_unusable", stripe_event_id=stripe_event.id)
        return
    outcome = await record_down_payment_paid(session, deal_id, intent_id, amount)
    event(f"deal.{outcome}", deal_id=str(deal_id), stripe_event_id=stripe_event.id)


async def record_down_payment_paid(
    session: AsyncSession, deal_id: uuid.UUID, intent_id: str, amount: int
) -> str:
    """Stripe collected the down payment ``intent_id``: hand the deal over and, if the product
    auto-funds, activate the loan (otherwise it waits for the lender to fund it); on a cancelled
    deal, mark the money owed back. Once, whoever calls first (the webhook, the reconciliation):
    ``handed_over``, ``down_payment_paid`` (waiting for the lender or the contract),
    ``refund_due`` or ``down_payment_event_ignored``."""
    now = utcnow()
    handed_over = await repository.mark_handed_over(
        session, deal_id, payment_intent_id=intent_id, amount=amount, now=now
    )
    if handed_over is not None:
        loan = None
        if handed_over.loan_id is not None:  # active now only if the product auto-funds
            loan = await servicing_service.activate_at_handover(
                session, audit.SYSTEM_ACTOR, handed_over.loan_id
            )
            if loan is not None:  # paid to the dealer by the next ``autofin jobs run``
                await funding_service.record_disbursement(
                    session, audit.SYSTEM_ACTOR, loan, now, claim=False
                )
        await gate.record_handed_over(
            session,
            handed_over,
            {
                "payment_intent_id": intent_id,
                "down_payment": amount,
                "loan_activated": loan is not None,
            },
        )
        return "handed_over"

    # A product that does not auto-fund: the car waits for the lender's approval and the signed
    # contract too; whichever of the three comes last hands it over (``gate``).
    paid = await repository.mark_down_payment_paid(
        session, deal_id, payment_intent_id=intent_id, amount=amount, now=now
    )
    if paid is not None:
        audit.record(
            session,
            actor=audit.SYSTEM_ACTOR,
            action="deal.down_payment_paid",
            subject_type="deal",
            subject_id=deal_id,
            after={"payment_intent_id": intent_id, "down_payment": amount},
        )
        if await gate.hand_over_if_ready(session, deal_id, now) is not None:
            return "handed_over"
        return "down_payment_paid"

    # Paid after the dealer cancelled (the buyer paid while staff were cancelling): the money
    # is owed back; the cancellation's own Stripe phase or a retried cancel refunds it.
    owed = await repository.mark_refund_due(
        session, deal_id, payment_intent_id=intent_id, amount=amount, now=now
    )
    if owed is not None:
        audit.record(
            session,
            actor=audit.SYSTEM_ACTOR,
            action="deal.down_payment_refund_due",
            subject_type="deal",
            subject_id=deal_id,
            after={"payment_intent_id": intent_id, "down_payment": amount},
        )
        return "refund_due"
    return "down_payment_event_ignored"


async def down_payment_failed(session: AsyncSession, stripe_event: StripeEvent) -> None:
    """The buyer's payment failed: the deal stays confirmed and shows the dealer why (Stripe's
    error code and safe message; never card data). They may pay again on the same intent."""
    deal_id, intent_id = _deal_id(stripe_event), stripe_event.object_id
    if deal_id is None or intent_id is None:
        event("deal.down_payment_event_unusable", stripe_event_id=stripe_event.id)
        return
    error = stripe_event.payment_error
    code = error.get("decline_code") or error.get("code")
    message = error.get("message")
    now = utcnow()
    failed = await repository.mark_down_payment_failed(
        session,
        deal_id,
        payment_intent_id=intent_id,
        code=str(code)[:100] if code else "payment_failed",
        message=str(message)[:_MESSAGE_LENGTH] if message else None,
        now=now,
    )
    if failed is None:
        event(
            "deal.down_payment_event_ignored", deal_id=str(deal_id), stripe_event_id=stripe_event.id
        )
        return
    audit.record(
        session,
        actor=audit.SYSTEM_ACTOR,
        action="deal.down_payment_failed",
        subject_type="deal",
        subject_id=deal_id,
        after={"payment_intent_id": intent_id, "code": failed.down_payment_failure_code},
    )
    event("deal.down_payment_failed", deal_id=str(deal_id), stripe_event_id=stripe_event.id)


def register(handlers: WebhookHandlers) -> None:
    """Have ``handlers`` apply the events about down payments."""
    handlers.register(
        "payment_intent.succeeded", down_payment_succeeded, purpose=DOWN_PAYMENT_PURPOSE
    )
    handlers.register(
        "payment_intent.payment_failed", down_payment_failed, purpose=DOWN_PAYMENT_PURPOSE
    )
