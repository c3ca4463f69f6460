"""Crediting what Stripe collected: exactly once, fees of the oldest unpaid instalment first,
then that instalment, then the next; a payoff that covers everything closes the loan.

Every transaction here locks the loan before its payments and instalments
(``repository.lock_loan_of_payment``), so repayments, webhooks, the reconciliation and the daily
job queue behind each other on one loan instead of deadlocking.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.collateral import service as collateral
from marketplace.servicing import amounts, ledger, repository
from marketplace.servicing import events as loan_events
from marketplace.servicing.models import (
    Bucket,
    Installment,
    InstallmentStatus,
    LedgerEntryType,
    Loan,
    LoanPayment,
    LoanStatus,
    PaymentKind,
    PaymentStatus,
)
from shared import audit
from shared.db import today, utcnow
from shared.observability import event


async def mark_payment_failed(
    session: AsyncSession,
    payment_id: uuid.UUID,
    *,
    failure_code: str | None,
    without_intent: bool = False,
) -> bool:
    """``processing → failed`` once (and, with ``without_intent``, only if no PaymentIntent was
    stored for it); False if it was already settled."""
    await repository.lock_loan_of_payment(session, payment_id)
    payment = await repository.settle_payment(
        session,
        payment_id,
        new=PaymentStatus.failed,
        without_intent=without_intent,
        failure_code=(failure_code or "failed")[:64],
    )
    if payment is None:
        return False
    audit.record(
        session,
        actor=audit.SYSTEM_ACTOR,
        action="loan_payment.failed",
        subject_type="loan",
        subject_id=payment.loan_id,
        after={"payment_id": str(payment_id), "failure_code": payment.failure_code},
    )
    event("loan_payment.failed", payment_id=str(payment_id), loan_id=str(payment.loan_id))
    return True


async def apply_succeeded_payment(
    session: AsyncSession, payment_id: uuid.UUID, *, payment_intent_id: str | None = None
) -> bool:
    """Credit a collected payment to its loan, exactly once; False if it was already settled.

    Fees of the oldest unpaid instalment first, then that instalment, then the next; a payoff
    that covers everything closes the loan."""
    loan = await repository.lock_loan_of_payment(session, payment_id)
    payment = await repository.settle_payment(
        session, payment_id, new=PaymentStatus.succeeded, payment_intent_id=payment_intent_id
    )
    if loan is None or payment is None:
        return False
    rows = await repository.installments(session, loan.id, for_update=True)
    on = max(today(), loan.delinquency_as_of or loan.loan_date)
    closed = False
    if loan.status == LoanStatus.charged_off:
        # A recovery: it pays the written-off rows as any payment would, and the ledger both
        # reinstates it and takes it off, so the written-off loan's balance stays at nothing.
        await _allocate(session, loan, rows, payment.amount, on)
        await repository.append_ledger_entry(
            session,
            loan_id=loan.id,
            entry_type=LedgerEntryType.recovery,
            entry_key=ledger.recovery_key(payment.id),
            amount=payment.amount,
            effective_date=on,
            payment_id=payment.id,
        )
        await _ledger_payment(session, loan, payment, LedgerEntryType.payment, on)
        event("loan_payment.recovered", payment_id=str(payment.id), loan_id=str(loan.id))
    elif loan.status != LoanStatus.active:
        # Money arrived for a loan that is closed: it stays in the ledger as a credit owed back.
        await _ledger_payment(session, loan, payment, LedgerEntryType.payment, on)
        event("loan_payment.unapplied", payment_id=str(payment.id), loan_id=str(loan.id))
    elif (
        payment.kind == PaymentKind.payoff
        and payment.payoff_on is not None
        and (payment.amount >= amounts.payoff_for(loan, rows, payment.payoff_on).amount)
    ):
        await _settle_payoff(session, loan, rows, payment.payoff_on)
        await _ledger_payment(session, loan, payment, LedgerEntryType.payoff, payment.payoff_on)
        closed = True
    else:
        await _allocate(session, loan, rows, payment.amount, on)
        await _ledger_payment(session, loan, payment, LedgerEntryType.payment, on)
        closed = all(r.status == InstallmentStatus.paid for r in rows)
    if loan.status == LoanStatus.active:
        days = amounts.days_past_due(rows, on)
        if amounts.worse_bucket(days, than=loan.days_past_due):  # its first look after a while
            await loan_events.loans_delinquent(session, [(loan.id, days, amounts.bucket_for(days))])
        loan.days_past_due, loan.bucket = days, amounts.bucket_for(days).value
    await session.flush()
    audit.record(
        session,
        actor=audit.SYSTEM_ACTOR,
        action="loan_payment.credited",
        subject_type="loan",
        subject_id=loan.id,
        after={"payment_id": str(payment.id), "amount": payment.amount},
    )
    if closed:
        paid_off = await repository.transition(
            session,
            loan.id,
            expected=LoanStatus.active,
            new=LoanStatus.paid_off,
            closed_at=utcnow(),
            days_past_due=0,
            bucket=Bucket.current.value,
        )
        if paid_off is not None:
            audit.record(
                session,
                actor=audit.SYSTEM_ACTOR,
                action="loan.paid_off",
                subject_type="loan",
                subject_id=loan.id,
                before={"status": LoanStatus.active.value},
                after={"status": LoanStatus.paid_off.value, "payment_id": str(payment.id)},
            )
        await loan_events.loan_paid_off(session, paid_off)
        await collateral.on_paid_off(session, paid_off)
    await session.flush()
    await loan_events.payment_succeeded(session, loan, payment)
    event("loan_payment.credited", payment_id=str(payment.id), loan_id=str(loan.id))
    return True


async def _ledger_payment(
    session: AsyncSession,
    loan: Loan,
    payment: LoanPayment,
    entry_type: LedgerEntryType,
    on: date,
) -> None:
    key = ledger.payoff_key if entry_type == LedgerEntryType.payoff else ledger.payment_key
    await repository.append_ledger_entry(
        session,
        loan_id=loan.id,
        entry_type=entry_type,
        entry_key=key(payment.id),
        amount=-payment.amount,
        effective_date=on,
        payment_id=payment.id,
    )


async def charge_interest(
    session: AsyncSession, loan: Loan, row: Installment, amount: int, on: date
) -> None:
    """Charge ``amount`` of interest on an instalment, once (its ledger key is unique)."""
    if row.interest_charged is not None:
        return
    if amount > 0:
        await repository.append_ledger_entry(
            session,
            loan_id=loan.id,
            entry_type=LedgerEntryType.instalment_due,
            entry_key=ledger.instalment_due_key(row.n),
            amount=amount,
            effective_date=on,
            installment_n=row.n,
        )
    row.interest_charged = amount


async def _allocate(
    session: AsyncSession, loan: Loan, rows: list[Installment], amount: int, on: date
) -> None:
    """Credit ``amount`` to the rows as ``amounts.waterfall`` shares it out."""
    shares, remaining = amounts.waterfall(rows, amount)
    by_n = {row.n: row for row in rows}
    now = utcnow()
    for share in shares:
        row = by_n[share.n]
        row.late_fee_paid += share.fee
        if not share.reaches_instalment:
            continue
        # Paying an instalment before it falls due pays its scheduled interest.
        await charge_interest(session, loan, row, row.interest, min(row.due_date, on))
        row.paid_amount += share.paid
        if amounts.installment_owed(row) == 0:
            row.status = InstallmentStatus.paid
            row.paid_at = now
    if remaining > 0:
        event("loan_payment.overpaid", loan_id=str(loan.id), amount=remaining)


async def _settle_payoff(
    session: AsyncSession, loan: Loan, rows: list[Installment], on: date
) -> None:
    now = utcnow()
    for row in rows:
        if row.status == InstallmentStatus.paid:
            continue
        if row.interest_charged is None:
            interest = amounts.interest_to_payoff(loan, rows, row.n, on)
            await charge_interest(session, loan, row, interest, min(row.due_date, on))
        assert row.interest_charged is not None
        row.late_fee_paid = row.late_fee
        row.paid_amount = row.principal + row.interest_charged
        row.status = InstallmentStatus.paid
        row.paid_at = now
