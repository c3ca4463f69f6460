"""Settle repayments left ``processing``: nothing Stripe collected may go uncredited.

A repayment stays ``processing`` when its webhook never arrives, or when the process died
between the request's phases and the client never retried. ``request_payment`` stores a
PaymentIntent's id *before* confirming it, so Stripe can only have taken money on an intent
we know of. This step, run by ``autofin jobs run``, settles every payment still ``processing``
``STALLED_AFTER`` its creation, calling Stripe outside any transaction:

- **with a PaymentIntent**: the intent is retrieved. ``succeeded`` credits it through
  ``apply_succeeded_payment`` (its conditional ``processing → succeeded`` credits it once,
  whichever of this step, a late webhook or a concurrent run gets there first);
  ``canceled`` or ``requires_payment_method`` (declined) fails it; an intent never confirmed
  (``requires_confirmation``, ``requires_action``) whose request is not running now is
  cancelled at Stripe — Stripe serialises that against a late confirm, so either the cancel
  holds and the payment fails, or the confirm won and the payment is credited; ``processing``
  is still moving and is left for the webhook or the next run.
- **without a PaymentIntent**: Stripe never charged for it (no intent of ours was confirmed),
  so the payment is failed (``abandoned``) to stop blocking the payoff, and in the same
  transaction its request is given that refusal as its final answer, so a late retry replays it
  and never reaches Stripe. A request being run at that moment holds its key; the payment is
  then left for it to finish.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from marketplace.servicing import crediting, repayments, repository
from marketplace.servicing.exceptions import PaymentAbandoned
from marketplace.servicing.models import LoanPayment
from shared.db import Database, utcnow
from shared.idempotency import StoredResponse, finish_abandoned, is_held
from shared.observability import event
from shared.payments.gateway import (
    PaymentGateway,
    PaymentIntent,
    PaymentProviderUnavailable,
    PaymentRequestRejected,
)

STALLED_AFTER = timedelta(minutes=2)
BATCH_SIZE = 500
FAILED_INTENT_STATUSES = frozenset({"canceled", "requires_payment_method"})
UNCONFIRMED_INTENT_STATUSES = frozenset({"requires_confirmation", "requires_action"})
ABANDONED = "abandoned"


@dataclass
class StalledPayments:
    """What one run did to the repayments it found stalled."""

    credited: int = 0
    failed: int = 0
    abandoned: int = 0
    left: int = 0


async def settle_stalled_payments(
    database: Database, gateway: PaymentGateway, *, limit: int = BATCH_SIZE
) -> StalledPayments:
    """Credit, fail or abandon the repayments stuck ``processing`` (see the module docstring),
    each at most once even when runs overlap. Opens its own short transactions and calls
    Stripe between them, so it must not be called inside one."""
    outcome = StalledPayments()
    async with database.sessionmaker() as session:
        stalled = await repository.stalled_payments(
            session, older_than=utcnow() - STALLED_AFTER, limit=limit
        )
    for payment in stalled:
        if payment.payment_intent_id is None:
            if await _abandon(database, payment.id):
                outcome.abandoned += 1
            else:
                outcome.left += 1
            continue
        try:
            settled = await _settle_from_stripe(
                database, gateway, payment, payment.payment_intent_id
            )
        except PaymentProviderUnavailable:
            settled = None
        if settled == "credited":
            outcome.credited += 1
        elif settled == "failed":
            outcome.failed += 1
        else:
            outcome.left += 1
    return outcome


async def _settle_from_stripe(
    database: Database, gateway: PaymentGateway, payment: LoanPayment, intent_id: str
) -> str | None:
    """``credited``, ``failed``, or None (still moving, settled meanwhile, or in use)."""
    intent = await gateway.retrieve_payment_intent(intent_id)
    if intent.amount != payment.amount:
        event("loan_payment.intent_mismatch", payment_id=str(payment.id))
        return None
    if intent.status in UNCONFIRMED_INTENT_STATUSES:
        async with database.sessionmaker() as session:
            if await is_held(session, recovery_data={"payment_id": str(payment.id)}):
                return None  # its request is running now: let it confirm or fail the intent
        intent = await _cancel_unconfirmed(gateway, payment.id, intent)
    async with database.sessionmaker() as session, session.begin():
        if intent.succeeded:
            credited = await crediting.apply_succeeded_payment(session, payment.id)
            return "credited" if credited else None
        if intent.status in FAILED_INTENT_STATUSES:
            failed = await crediting.mark_payment_failed(
                session, payment.id, failure_code=intent.status
            )
            if failed and intent.status == "canceled":
                # We cancelled it: a late retry of its request replays that, never confirms.
                refusal = PaymentAbandoned()
                await finish_abandoned(
                    session,
                    recovery_point=repayments.INTENT_STORED,
                    data={"payment_id": str(payment.id)},
                    response=StoredResponse(refusal.status_code, refusal.body()),
                )
            return "failed" if failed else None
    return None


async def _cancel_unconfirmed(
    gateway: PaymentGateway, payment_id: uuid.UUID, intent: PaymentIntent
) -> PaymentIntent:
    """Cancel an intent nobody confirmed, so nobody can; Stripe's final word on it."""
    try:
        return await gateway.cancel_payment_intent(
            intent.id, idempotency_key=f"loan-payment-{payment_id}-cancel"
        )
    except PaymentRequestRejected:  # confirmed meanwhile: see what it became
        return await gateway.retrieve_payment_intent(intent.id)


class _RetryInProgress(Exception):
    """The abandoned payment's request is being retried right now: undo, leave it be."""


async def _abandon(database: Database, payment_id: uuid.UUID) -> bool:
    """Fail a payment Stripe was never asked to charge and finish its request with that
    refusal, in one transaction; False if it settled meanwhile or its request is running."""
    refusal = PaymentAbandoned()
    try:
        async with database.sessionmaker() as session, session.begin():
            # Conditional: still processing and still without an intent (a retry may have
            # stored one since).
            if not await crediting.mark_payment_failed(
                session, payment_id, failure_code=ABANDONED, without_intent=True
            ):
                return False
            if not await finish_abandoned(
                session,
                recovery_point=repayments.PAYMENT_CREATED,
                data={"payment_id": str(payment_id)},
                response=StoredResponse(refusal.status_code, refusal.body()),
            ):
                raise _RetryInProgress()
    except _RetryInProgress:
        return False
    return True
