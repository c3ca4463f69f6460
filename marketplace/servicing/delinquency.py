"""The daily delinquency pass: interest falling due, late instalments, late fees, days past due
and charge-offs, as of a date.

Safe to run twice and concurrently: each active loan is locked with ``SKIP LOCKED`` (a
concurrent run, or a payment being credited, holds it and does its own work on it), every
status change is conditional, and every ledger entry has a unique key — a late fee is charged
once per instalment however often the job runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing import ledger, repository, service
from marketplace.servicing.crediting import charge_interest
from marketplace.servicing.models import (
    Installment,
    InstallmentStatus,
    LedgerEntryType,
    Loan,
    LoanStatus,
)
from shared import audit
from shared.db import utcnow
from shared.money import round_fen
from shared.observability import event


@dataclass(frozen=True)
class DelinquencyPolicy:
    """Servicing tunables: a grace period, a capped late fee, a charge-off threshold."""

    grace_days: int = 3  # an instalment is late once more than this many days overdue
    late_fee_rate: Decimal = Decimal("0.05")  # of the overdue instalment's payment …
    late_fee_cap: int = 20_000  # … capped at ¥200
    charge_off_days: int = 180


DEFAULT_DELINQUENCY_POLICY = DelinquencyPolicy()


def late_fee_for(row: Installment, policy: DelinquencyPolicy) -> int:
    return min(round_fen(row.payment * policy.late_fee_rate), policy.late_fee_cap)


@dataclass
class DelinquencyRun:
    loans_checked: int = 0
    interest_charged: int = 0
    installments_late: int = 0
    late_fees: int = 0
    charged_off: int = 0


async def run_delinquency(
    session: AsyncSession, as_of: date, policy: DelinquencyPolicy = DEFAULT_DELINQUENCY_POLICY
) -> DelinquencyRun:
    """Bring every active loan up to date as of ``as_of``; counts of what this run changed."""
    done = DelinquencyRun()
    for loan_id in await repository.active_loan_ids(session):
        loan = await repository.lock_active_loan(session, loan_id)
        if loan is None:
            continue  # another run or a payment holds it, or it just closed
        done.loans_checked += 1
        await _service_loan(session, loan, as_of, policy, done)
    await session.flush()
    return done


async def _service_loan(
    session: AsyncSession, loan: Loan, as_of: date, policy: DelinquencyPolicy, done: DelinquencyRun
) -> None:
    rows = await repository.installments(session, loan.id, for_update=True)
    late_after = as_of - timedelta(days=policy.grace_days)
    for row in rows:
        if row.status == InstallmentStatus.paid or row.due_date > as_of:
            continue
        if row.interest_charged is None:
            await charge_interest(session, loan, row, row.interest, row.due_date)
            done.interest_charged += 1
        if row.due_date >= late_after:
            continue  # still within its grace period
        if row.status == InstallmentStatus.due:
            row.status = InstallmentStatus.late
            done.installments_late += 1
        fee = late_fee_for(row, policy)
        if await ledger.append(
            session,
            loan_id=loan.id,
            entry_type=LedgerEntryType.late_fee,
            entry_key=ledger.late_fee_key(row.n),
            amount=fee,
            effective_date=row.due_date + timedelta(days=policy.grace_days + 1),
            installment_n=row.n,
        ):
            row.late_fee += fee
            done.late_fees += 1
            event("loan.late_fee", loan_id=str(loan.id), n=row.n, amount=fee)
    if loan.delinquency_as_of is None or loan.delinquency_as_of <= as_of:
        days = service.days_past_due(rows, as_of)
        loan.days_past_due, loan.bucket = days, service.bucket_for(days)
        loan.delinquency_as_of = as_of
    await session.flush()
    if loan.days_past_due >= policy.charge_off_days:
        await _charge_off(session, loan, as_of)
        done.charged_off += 1


async def _charge_off(session: AsyncSession, loan: Loan, as_of: date) -> None:
    balance = await ledger.balance(session, loan.id)
    charged = await repository.transition(
        session, loan.id, expected=LoanStatus.active, new=LoanStatus.charged_off, closed_at=utcnow()
    )
    if charged is None:
        return
    await ledger.append(
        session,
        loan_id=loan.id,
        entry_type=LedgerEntryType.charge_off,
        entry_key=ledger.charge_off_key(),
        amount=-balance,
        effective_date=as_of,
    )
    audit.record(
        session,
        actor=audit.SYSTEM_ACTOR,
        action="loan.charged_off",
        subject_type="loan",
        subject_id=loan.id,
        before={"status": LoanStatus.active.value},
        after={
            "status": LoanStatus.charged_off.value,
            "days_past_due": loan.days_past_due,
            "written_off": balance,
        },
    )
    event("loan.charged_off", loan_id=str(loan.id), days_past_due=loan.days_past_due)
