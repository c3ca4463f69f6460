"""The daily delinquency pass: interest falling due, late instalments, late fees, days past due
and charge-offs, as of a date.

It finds the loans it can change through a partial index of unpaid instalments (most loans on
most days have nothing falling due) and works through them in batches, a few statements per
few thousand loans rather than a round trip per loan, so a run over hundreds of thousands of
loans takes seconds.

Safe to run twice and concurrently: each batch of loans is locked with ``SKIP LOCKED``
(a concurrent run, or a payment being credited, holds the others and does its own work on
them), every status change is conditional, and every ledger entry has a unique key — a late
fee is charged once per instalment however often the job runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing import events as loan_events
from marketplace.servicing import ledger, repository, service
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

BATCH_SIZE = 5_000  # loans per batch: big enough to amortise round trips, small locks


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
    session: AsyncSession,
    as_of: date,
    policy: DelinquencyPolicy = DEFAULT_DELINQUENCY_POLICY,
    *,
    progress: Callable[[str], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> DelinquencyRun:
    """Bring every active loan up to date as of ``as_of``; counts of what this run changed.

    Only the loans this can change are visited: those with an unpaid instalment due by
    ``as_of``, those still showing days past due, and those never serviced, unless a run has
    serviced them as of that day already (nothing falls due within a day; payments keep their
    own loan's standing). Any other active loan is current with nothing falling due, so it
    keeps its standing (and its ``delinquency_as_of``: the day its standing last changed).
    ``progress`` hears one line per batch."""
    done = DelinquencyRun()
    loan_ids = await repository.loans_to_service(session, as_of)
    for start in range(0, len(loan_ids), batch_size):
        batch = await repository.lock_active_loans(session, loan_ids[start : start + batch_size])
        done.loans_checked += len(batch)  # the rest are held by another run, or closed
        await _service_batch(session, batch, as_of, policy, done)
        if progress is not None:
            progress(
                f"    {min(start + batch_size, len(loan_ids)):,} of {len(loan_ids):,} loans "
                f"to service: {done.interest_charged:,} instalments due, "
                f"{done.installments_late:,} late, {done.late_fees:,} late fees, "
                f"{done.charged_off:,} charged off"
            )
    return done


async def _service_batch(
    session: AsyncSession,
    batch: list[repository.LoanStanding],
    as_of: date,
    policy: DelinquencyPolicy,
    done: DelinquencyRun,
) -> None:
    """Service one locked batch of loans: the same rules, row by row, as a loan at a time."""
    loan_ids = [loan.id for loan in batch]
    rows = await repository.due_unpaid_installments(session, loan_ids, as_of)
    late_after = as_of - timedelta(days=policy.grace_days)
    interest: list[ledger.NewEntry] = []
    fees: dict[tuple[uuid.UUID, str], tuple[Installment, int]] = {}
    for row in rows:
        if row.interest_charged is None:
            # As ``crediting.charge_interest``: the interest falls due once, on its due date.
            if row.interest > 0:
                interest.append(
                    ledger.NewEntry(
                        loan_id=row.loan_id,
                        entry_type=LedgerEntryType.instalment_due,
                        entry_key=ledger.instalment_due_key(row.n),
                        amount=row.interest,
                        effective_date=row.due_date,
                        installment_n=row.n,
                    )
                )
            row.interest_charged = row.interest
            done.interest_charged += 1
        if row.due_date >= late_after:
            continue  # still within its grace period
        if row.status == InstallmentStatus.due:
            row.status = InstallmentStatus.late
            done.installments_late += 1
        if row.late_fee == 0:  # a fee already charged shows here; the ledger key is the guard
            fees[(row.loan_id, ledger.late_fee_key(row.n))] = (row, late_fee_for(row, policy))
    await ledger.append_many(session, interest)
    charged = await ledger.append_many(
        session,
        [
            ledger.NewEntry(
                loan_id=row.loan_id,
                entry_type=LedgerEntryType.late_fee,
                entry_key=ledger.late_fee_key(row.n),
                amount=fee,
                effective_date=row.due_date + timedelta(days=policy.grace_days + 1),
                installment_n=row.n,
            )
            for row, fee in fees.values()
        ],
    )
    for loan_id, entry_key in charged:
        row, fee = fees[(loan_id, entry_key)]
        row.late_fee += fee
        done.late_fees += 1
        event("loan.late_fee", loan_id=str(loan_id), n=row.n, amount=fee)
    await session.flush()

    oldest_overdue: dict[uuid.UUID, date] = {}
    for row in rows:
        if row.due_date < as_of and row.loan_id not in oldest_overdue:
            oldest_overdue[row.loan_id] = row.due_date  # rows come in (loan, n) order
    standings: list[tuple[uuid.UUID, int, str]] = []
    worsened: list[tuple[uuid.UUID, int, str]] = []  # entered a worse bucket: loan.delinquent
    to_charge_off: list[uuid.UUID] = []
    for loan in batch:
        days = loan.days_past_due
        if loan.delinquency_as_of is None or loan.delinquency_as_of <= as_of:
            overdue_since = oldest_overdue.get(loan.id)
            days = (as_of - overdue_since).days if overdue_since is not None else 0
            standings.append((loan.id, days, service.bucket_for(days)))
            if service.worse_bucket(days, than=loan.days_past_due):
                worsened.append((loan.id, days, service.bucket_for(days)))
        if days >= policy.charge_off_days:
            to_charge_off.append(loan.id)
    await repository.set_delinquency(session, standings, as_of)
    await loan_events.loans_delinquent(session, worsened)
    for loan_id in to_charge_off:
        held = await repository.loan_by_id(session, loan_id)  # locked by this batch already
        if held is not None and await _charge_off(session, held, as_of):
            done.charged_off += 1


async def _charge_off(session: AsyncSession, loan: Loan, as_of: date) -> bool:
    """Write the loan off once; True if this call did."""
    balance = await ledger.balance(session, loan.id)
    charged = await repository.transition(
        session, loan.id, expected=LoanStatus.active, new=LoanStatus.charged_off, closed_at=utcnow()
    )
    if charged is None:
        return False
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
    return True
