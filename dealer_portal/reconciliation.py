"""Refund down payments that arrived after their deal was cancelled (``refund_due``).

The webhook marks such a payment ``refund_due`` but cannot refund it: it runs in a database
transaction, and Stripe is never called inside one. The cancel flow's own Stripe phase refunds it
only if that phase runs after the payment; when it ran before (it voided nothing, or Stripe was
unreachable and nobody retried) the money would stay with us. This step, run with the daily jobs,
refunds each one through the cancel flow's code path (``settle_down_payment_after_cancel`` then
``store_refund``), as atomic phases:

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

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dealer_portal.handover import settle_down_payment_after_cancel, store_refund
from dealer_portal.models import DealerDeal, DealStatus, DownPaymentStatus
from shared.db import Database, utcnow
from shared.errors import DomainError
from shared.idempotency import (
    IdempotencyKeyInUse,
    IdempotentRun,
    StoredResponse,
    request_fingerprint,
)
from shared.observability import event
from shared.payments.gateway import PaymentGateway

RECONCILIATION_SCOPE = "system:reconciliation"
BATCH_SIZE = 100


async def _deals_owed_a_refund(database: Database, limit: int) -> list[tuple[uuid.UUID, str]]:
    async with database.sessionmaker() as session:
        rows = await session.execute(
            select(col(DealerDeal.id), col(DealerDeal.payment_intent_id))
            .where(
                col(DealerDeal.status) == DealStatus.cancelled.value,
                col(DealerDeal.down_payment_status) == DownPaymentStatus.refund_due.value,
                col(DealerDeal.refund_id).is_(None),
                col(DealerDeal.payment_intent_id).is_not(None),
            )
            .order_by(col(DealerDeal.updated_at))
            .limit(limit)
        )
        return [(deal_id, str(intent_id)) for deal_id, intent_id in rows.all()]


async def refund_owed_down_payments(
    database: Database, gateway: PaymentGateway, *, limit: int = BATCH_SIZE
) -> int:
    """Refund every cancelled deal's down payment that was paid after the cancellation, each
    exactly once even when runs overlap; how many this run refunded.

    Opens its own short transactions and calls Stripe between them, so it must not be called
    inside one. A deal held by a concurrent run, or for which Stripe is unreachable, is left
    for the next run; one Stripe refuses outright is logged for a person to look at."""
    refunded = 0
    for deal_id, payment_intent_id in await _deals_owed_a_refund(database, limit):
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
    async with IdempotentRun.begin(
        database, scope=RECONCILIATION_SCOPE, key=key, fingerprint=fingerprint
    ) as run:
        if run.response is not None:
            # Finished by an earlier run: refunded, or refused by Stripe (a person must look).
            if run.response.status >= 400:
                event("deal.refund_due_refused", deal_id=str(deal_id))
            return False
        refund_id = await settle_down_payment_after_cancel(gateway, deal_id, payment_intent_id)

        async def store(session: AsyncSession) -> StoredResponse:
            nonlocal stored
            deal = await store_refund(session, deal_id, refund_id, utcnow())
            stored = deal is not None
            return StoredResponse(200, {"deal_id": str(deal_id), "refund_id": refund_id})

        await run.phase(store)
    if stored:
        event("deal.refund_due_refunded", deal_id=str(deal_id), refund_id=refund_id)
    return stored
