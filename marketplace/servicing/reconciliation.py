"""Settle repayments left ``processing``, which block a payoff until they settle.

A repayment stays ``processing`` when its ``payment_intent.succeeded`` (or ``payment_failed``)
webhook never arrives, or when the process died between phase 1 (the row committed) and phase 2
(the PaymentIntent stored) and the client never retried. This step, run with the daily jobs,
settles them from Stripe's own record, calling Stripe outside any transaction:

- **with a PaymentIntent, older than** ``STALLED_AFTER``: the intent is retrieved; ``succeeded``
  credits it through ``apply_succeeded_payment`` — its conditional ``processing → succeeded``
  credits it once, whichever of this step, a late webhook or a concurrent run gets there first;
  ``canceled`` or ``requires_payment_method`` (declined) fails it; any other status is still
  moving and is left for Stripe's webhook or the next run.
- **without a PaymentIntent**: Stripe may never have heard of it. The client's retry with the same
  ``Idempotency-Key`` resumes the request and asks Stripe with the same Stripe idempotency key
  (``loan-payment-{id}``), so within Stripe's 24 hours it gets the one intent back. After
  ``ABANDONED_AFTER`` (a day) Stripe has forgotten that key, so a retry could charge a second time
  anything the first attempt charged: the payment is failed (``abandoned``) to stop blocking the
  payoff, and in the same transaction its request is given that refusal as its final answer, so a
  late retry replays it and never reaches Stripe. A request being retried at that moment holds
  its key; the payment is then left for the retry to finish.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from marketplace.servicing import repayments
from marketplace.servicing.exceptions import PaymentAbandoned
from marketplace.servicing.models import LoanPayment, PaymentStatus
from shared.db import Database, utcnow
from shared.idempotency import StoredResponse, finish_abandoned
from shared.observability import event
from shared.payments.gateway import PaymentGateway, PaymentProviderUnavailable

STALLED_AFTER = timedelta(minutes=15)
ABANDONED_AFTER = timedelta(days=1)
BATCH_SIZE = 500
FAILED_INTENT_STATUSES = frozenset({"canceled", "requires_payment_method"})
ABANDONED = "abandoned"


@dataclass
class StalledPayments:
    """What one run did to the repayments it found stalled."""

    credited: int = 0
    failed: int = 0
    abandoned: int = 0
    left: int = 0


async def _stalled(
    database: Database, *, with_intent: bool, older_than: datetime, limit: int
) -> list[LoanPayment]:
    intent = col(LoanPayment.payment_intent_id)
    async with database.sessionmaker() as session:
        rows = await session.execute(
            select(LoanPayment)
            .where(
                col(LoanPayment.status) == PaymentStatus.processing.value,
                intent.is_not(None) if with_intent else intent.is_(None),
                col(LoanPayment.created_at) < older_than,
            )
            .order_by(col(LoanPayment.created_at))
            .limit(limit)
        )
        return list(rows.scalars().all())


async def settle_stalled_payments(
    database: Database, gateway: PaymentGateway, *, limit: int = BATCH_SIZE
) -> StalledPayments:
    """Credit, fail or abandon the repayments stuck ``processing`` (see the module docstring),
    each at most once even when runs overlap. Opens its own short transactions and calls
    Stripe between them, so it must not be called inside one."""
    now = utcnow()
    outcome = StalledPayments()
    for payment in await _stalled(
        database, with_intent=True, older_than=now - STALLED_AFTER, limit=limit
    ):
        assert payment.payment_intent_id is not None
        try:
            intent = await gateway.retrieve_payment_intent(payment.payment_intent_id)
        except PaymentProviderUnavailable:
            outcome.left += 1
            continue
        if intent.amount != payment.amount:
            event("loan_payment.intent_mismatch", payment_id=str(payment.id))
            outcome.left += 1
        elif intent.succeeded:
            async with database.sessionmaker() as session, session.begin():
                if await repayments.apply_succeeded_payment(session, payment.id):
                    outcome.credited += 1
        elif intent.status in FAILED_INTENT_STATUSES:
            async with database.sessionmaker() as session, session.begin():
                if await repayments.mark_payment_failed(
                    session, payment.id, failure_code=intent.status
                ):
                    outcome.failed += 1
        else:
            outcome.left += 1
    for payment in await _stalled(
        database, with_intent=False, older_than=now - ABANDONED_AFTER, limit=limit
    ):
        if await _abandon(database, payment.id):
            outcome.abandoned += 1
        else:
            outcome.left += 1
    return outcome


class _RetryInProgress(Exception):
    """The abandoned payment's request is being retried right now: undo, leave it be."""


async def _abandon(database: Database, payment_id: uuid.UUID) -> bool:
    """Fail a payment Stripe never answered for and finish its request with that refusal, in
    one transaction; False if it settled meanwhile or its request is being retried now."""
    refusal = PaymentAbandoned()
    try:
        async with database.sessionmaker() as session, session.begin():
            # Conditional: still processing and still without an intent (a retry's phase 2
            # may have stored one since); the payment row first, as that phase 2 locks it.
            if not await repayments.mark_payment_failed(
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
