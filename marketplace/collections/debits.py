"""Automatic debits on mandates: each due instalment charged on its due date, retried on the
product's schedule, never more than once a day, never once the buyer has paid.

Per loan, as atomic phases (the repayment flow's, ``marketplace.servicing.repayments``), with no
transaction held while the rail is called:

1. *plan* (one transaction per batch, loans locked ``SKIP LOCKED``): a loan with a live mandate,
   no payment in flight, and an unpaid instalment due whose next attempt falls due by ``as_of``
   gets a ``processing`` payment for everything due and a ``debit_attempts`` row — unique per
   loan and day and per (instalment, attempt number), so overlapping runs plan it once;
2. the collector *prepares* the debit, unconfirmed (key ``loan-{loan}-instalment-{n}-attempt-{k}``);
3. its reference is stored on the payment (from here the reconciliation can settle it);
4. the collector *executes* it (key ``…-confirm``);
5. a collected debit is credited by ``crediting.apply_succeeded_payment`` — as the webhook or the
   reconciliation would, whichever is first — and a declined one is failed.

A crash after 1 leaves a payment without a reference, which the reconciliation abandons; after 3,
a reference it settles from the rail's record. Either way the attempt counts, and the next one
waits for its day on the schedule.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.collections import repository
from marketplace.collections.collector import Collector, DebitOrder
from marketplace.collections.models import DebitAttempt
from marketplace.servicing import amounts, crediting
from marketplace.servicing import repository as servicing_repository
from marketplace.servicing.models import InstallmentStatus, LoanPayment, PaymentKind
from marketplace.servicing.repayments import REPAYMENT_PURPOSE
from pricing.collections import CollectionTerms
from shared import audit
from shared.db import Database
from shared.observability import event
from shared.payments.gateway import PaymentProviderUnavailable, PaymentRequestRejected

BATCH_SIZE = 200  # loans planned per transaction; each then takes two calls to the rail


@dataclass(frozen=True)
class PlannedDebit:
    attempt_id: uuid.UUID
    payment_id: uuid.UUID
    loan_id: uuid.UUID
    installment_n: int
    attempt: int
    amount: int
    customer_ref: str
    payment_method_ref: str

    @property
    def idempotency_key(self) -> str:
        return f"loan-{self.loan_id}-instalment-{self.installment_n}-attempt-{self.attempt}"


@dataclass
class DebitRun:
    planned: int = 0
    collected: int = 0
    declined: int = 0
    left: int = 0  # in flight at the rail, or the rail unreachable: settled later


async def run_debits(
    database: Database,
    collector: Collector,
    *,
    as_of: date,
    progress: Callable[[str], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> DebitRun:
    """Debit every mandate with an attempt due by ``as_of``. Opens its own short transactions
    and calls the rail between them: never call it inside one."""
    done = DebitRun()
    after: uuid.UUID | None = None
    while True:
        async with database.sessionmaker() as session, session.begin():
            loan_ids = await repository.loans_to_debit(
                session, as_of, after=after, limit=batch_size
            )
            if not loan_ids:
                break
            after = loan_ids[-1]
            planned = await _plan(session, loan_ids, as_of, collector.name)
        done.planned += len(planned)
        for debit in planned:
            outcome = await _collect(database, collector, debit)
            if outcome == "collected":
                done.collected += 1
            elif outcome == "declined":
                done.declined += 1
            else:
                done.left += 1
        if progress is not None:
            progress(
                f"    automatic debits: {done.planned:,} made, {done.collected:,} collected,"
                f" {done.declined:,} declined, {done.left:,} still moving"
            )
    return done


def next_attempt(
    terms: CollectionTerms, due_date: date, attempts_so_far: int, as_of: date
) -> int | None:
    """The number of the attempt due by ``as_of`` at an instalment due on ``due_date`` after
    ``attempts_so_far``; None if none is due (not yet its day, or the schedule is used up)."""
    day = terms.attempt_day(attempts_so_far + 1)
    if day is None or due_date + timedelta(days=day) > as_of:
        return None
    return attempts_so_far + 1


async def _plan(
    session: AsyncSession, loan_ids: list[uuid.UUID], as_of: date, collector_name: str
) -> list[PlannedDebit]:
    held = await servicing_repository.lock_active_loans(session, loan_ids)
    terms_of = await servicing_repository.collection_terms(
        session, [loan.product_version_id for loan in held]
    )
    planned: list[PlannedDebit] = []
    for loan in held:
        mandate = await repository.active_mandate_for_platform(session, loan.id)
        if mandate is None or mandate.collector != collector_name:
            continue
        if await repository.has_processing_payment(session, loan.id):
            continue  # the buyer's own payment, or an earlier debit, is in flight
        past = await repository.attempts(session, loan.id)
        if any(a.attempted_on == as_of for a in past):
            continue  # never more than once a day
        rows = await servicing_repository.installments(session, loan.id, for_update=True)
        due = [r for r in rows if r.status != InstallmentStatus.paid and r.due_date <= as_of]
        if not due:
            continue  # paid by hand meanwhile
        oldest = due[0]
        attempt = next_attempt(
            terms_of.get(loan.product_version_id) or CollectionTerms(),
            oldest.due_date,
            sum(1 for a in past if a.installment_n == oldest.n),
            as_of,
        )
        amount = sum(amounts.installment_owed(r) for r in due)
        if attempt is None or amount <= 0:
            continue
        payment = LoanPayment(
            loan_id=loan.id,
            buyer_id=mandate.buyer_id,
            kind=PaymentKind.installments,
            installments=len(due),
            amount=amount,
        )
        session.add(payment)
        await session.flush()
        debit = DebitAttempt(
            loan_id=loan.id,
            mandate_id=mandate.id,
            installment_n=oldest.n,
            attempt=attempt,
            attempted_on=as_of,
            payment_id=payment.id,
            amount=amount,
        )
        session.add(debit)
        audit.record(
            session,
            actor=audit.SYSTEM_ACTOR,
            action="loan.auto_debit",
            subject_type="loan",
            subject_id=loan.id,
            after={
                "payment_id": str(payment.id),
                "installment_n": oldest.n,
                "attempt": attempt,
                "amount": amount,
            },
        )
        planned.append(
            PlannedDebit(
                attempt_id=debit.id,
                payment_id=payment.id,
                loan_id=loan.id,
                installment_n=oldest.n,
                attempt=attempt,
                amount=amount,
                customer_ref=mandate.customer_ref,
                payment_method_ref=mandate.payment_method_ref,
            )
        )
    await session.flush()
    return planned


async def _collect(database: Database, collector: Collector, debit: PlannedDebit) -> str | None:
    """Phases 2–5 for one planned debit: ``collected``, ``declined`` or None (left)."""
    try:
        reference = await collector.prepare(
            DebitOrder(
                amount=debit.amount,
                idempotency_key=debit.idempotency_key,
                customer_ref=debit.customer_ref,
                payment_method_ref=debit.payment_method_ref,
                metadata={
                    "purpose": REPAYMENT_PURPOSE,
                    "loan_id": str(debit.loan_id),
                    "payment_id": str(debit.payment_id),
                    "debit_attempt_id": str(debit.attempt_id),
                },
            )
        )
    except (PaymentProviderUnavailable, PaymentRequestRejected):
        event("auto_debit.prepare_failed", loan_id=str(debit.loan_id))
        return None
    async with database.sessionmaker() as session, session.begin():
        if not await servicing_repository.store_payment_intent(
            session, debit.payment_id, reference
        ):
            return None  # abandoned meanwhile by the reconciliation: never confirm it
    try:
        outcome = await collector.execute(
            reference, idempotency_key=f"{debit.idempotency_key}-confirm"
        )
    except (PaymentProviderUnavailable, PaymentRequestRejected):
        event("auto_debit.execute_failed", loan_id=str(debit.loan_id))
        return None
    async with database.sessionmaker() as session, session.begin():
        if outcome.succeeded:
            await crediting.apply_succeeded_payment(session, debit.payment_id)
            event("auto_debit.collected", loan_id=str(debit.loan_id), attempt=debit.attempt)
            return "collected"
        if outcome.status == "declined":
            await crediting.mark_payment_failed(
                session, debit.payment_id, failure_code=outcome.failure_code
            )
            event("auto_debit.declined", loan_id=str(debit.loan_id), attempt=debit.attempt)
            return "declined"
    # Needs the buyer (requires_action) or still processing: the webhook or the
    # reconciliation settles it from the rail's record.
    return None
