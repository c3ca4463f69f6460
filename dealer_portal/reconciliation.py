"""Settle down payments from Stripe's record when their webhook never came.

**Paid, never told** (``settle_paid_down_payments``): a confirmed deal whose down payment is
still ``requested`` (or ``failed``) ``STALLED_AFTER`` its last change is checked at Stripe; a
succeeded PaymentIntent hands the deal over through the webhook's own code
(``record_down_payment_paid``, a conditional update: once, whichever comes first).

**Paid after cancellation** (``refund_owed_down_payments``): refund down payments that arrived
after their deal was cancelled (``refund_due``).

The webhook marks such a payment ``refund_due`` but cannot refund it: it runs in a database
transaction, and Stripe is never called inside one. The cancel flow's own Stripe phase refunds it
only if that phase runs after the payment; when it ran before (it voided nothing, or Stripe was
unreachable and nobody retried) the money would stay with us. This step, run with the daily jobs,
refunds each one through the cancel flow's code path (``settle_down_payment_after_cancel`` then
``store_refund``), as atomic phases (explained once in ``shared.idempotency``):

1. claim — the deal's reconciliation key (``shared.idempotency``, a system scope) is inserted or
   locked in a committed transaction of its own: of two concurrent runs one holds it and the
   other skips the deal; a run that died holding it is resumed once its lock times out;
2. no transaction open — Stripe confirms the PaymentIntent succeeded and refunds it with the
   cancel flow's Stripe idempotency key ``deal-{id}-refund``, so a resumed run, or a dealer's
   retried cancel racing this one, gets the same refund back from Stripe, never a second one;
3. one transaction — the refund id is stored and the status becomes ``refunded`` by a conditional
   UPDATE (still cancelled, no refund stored yet), audited once, and the key is finished.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import repository
from dealer_portal.handover import settle_down_payment_after_cancel, store_refund
from dealer_portal.webhooks import record_down_payment_paid
from shared.db import Database, utcnow
from shared.errors import DomainError
from shared.idempotency import (
    IdempotencyKeyInUse,
    IdempotentRun,
    StoredResponse,
    request_fingerprint,
)
from shared.observability import event
from shared.payments.gateway import PaymentGateway, PaymentProviderUnavailable

RECONCILIATION_SCOPE = "system:reconciliation"
BATCH_SIZE = 100
STALLED_AFTER = timedelta(minutes=2)


async def settle_paid_down_payments(
    database: Database, gateway: PaymentGateway, *, limit: int = BATCH_SIZE
) -> int:
    """Hand over every confirmed deal whose down payment Stripe collected but whose webhook
    never arrived; how many this run handed over (or marked owed back). Calls Stripe outside
    any transaction; two runs at once act on each deal once (a conditional update)."""
    async with database.sessionmaker() as session:
        waiting = await repository.deals_awaiting_down_payment(
            session, changed_before=utcnow() - STALLED_AFTER, limit=limit
        )
    settled = 0
    for deal_id, intent_id in waiting:
        try:
            intent = await gateway.retrieve_payment_intent(intent_id)
        except PaymentProviderUnavailable:
            continue
        if not intent.succeeded:
            continue
        async with database.sessionmaker() as session, session.begin():
            outcome = await record_down_payment_paid(session, deal_id, intent.id, intent.amount)
        if outcome != "down_payment_event_ignored":
            settled += 1
            event(f"deal.{outcome}", deal_id=str(deal_id), source="reconciliation")
    return settled


async def refund_owed_down_payments(
    database: Database, gateway: PaymentGateway, *, limit: int = BATCH_SIZE
) -> int:
    """Refund every cancelled deal's down payment that was paid after the cancellation, each
    exactly once even when runs overlap; how many this run refunded.

    Opens its own short transactions and calls Stripe between them, so it must not be called
    inside one. A deal held by a concurrent run, or for which Stripe is unreachable, is left
    for the next run; one Stripe refuses outright is logged for a person to look at."""
    refunded = 0
    async with database.sessionmaker() as session:
        owed = await repository.deals_owed_a_refund(session, limit=limit)
    for deal_id, payment_intent_id in owed:
        try:
            if await _refund(database, gateway, deal_id, payment_intent_id):
                refunded += 1
        except IdempotencyKeyInUse:
            event("deal.refund_due_skipped", deal_id=str(deal_id), reason="in_progress")
        except DomainError as refusal:
            event("deal.refund_due_skipped", deal_id=str(deal_id), reason=refusal.code)
    return refunded


async def _refund(
    database: Database, gateway: PaymentGateway, deal_id: uuid.UUID, payment_intent_id: str
) -> bool:
    """True if this run stored the refund (False: another run or a retried cancel did)."""
    key = f"deal-{deal_id}-refund-due"
    fingerprint = request_fingerprint("RECONCILE", key, {"payment_intent_id": payment_intent_id})
    stored = False
    async with (
        database.sessionmaker() as session,
        IdempotentRun.begin(
            session, scope=RECONCILIATION_SCOPE, key=key, fingerprint=fingerprint
        ) as run,
    ):
        if run.response is not None:
            # Finished by an earlier run: refunded, or refused by Stripe (a person must look).
            if run.response.status >= 400:
                event("deal.refund_due_refused", deal_id=str(deal_id))
            return False
        refund_id = await settle_down_payment_after_cancel(gateway, deal_id, payment_intent_id)

        async def store(tx: AsyncSession) -> StoredResponse:
            nonlocal stored
            deal = await store_refund(tx, deal_id, refund_id, utcnow())
            stored = deal is not None
            return StoredResponse(200, {"deal_id": str(deal_id), "refund_id": refund_id})

        await run.phase(store)
    if stored:
        event("deal.refund_due_refunded", deal_id=str(deal_id), refund_id=refund_id)
    return stored
