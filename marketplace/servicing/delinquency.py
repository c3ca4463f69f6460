"""The daily delinquency pass: interest falling due, late instalments, late fees, days past due
and charge-offs, as of a date.

It finds the loans it can change through a partial index of unpaid instalments (most loans on
most days have nothing falling due) and works through them in batches, a few statements per
few thousand loans rather than a round trip per loan, so a run over hundreds of thousands of
loans takes seconds.

Safe to run twice and concurrently: each batch of loans is locked with ``SKIP LOCKED``
(a concurrent run, or a payment being credited, holds the others and does its own work on
them), every status change is conditional, and every ledger entry has a unique key — a late
fee is charged once per instalment (a daily-rate fee once per instalment and day) however often
the job runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing import amounts, ledger, repository
from marketplace.servicing import events as loan_events
from marketplace.servicing.models import (
    Installment,
    InstallmentStatus,
    LedgerEntryType,
    Loan,
    LoanStatus,
)
from pricing import DEFAULT_POLICY
from pricing.collections import (
    CollectionTerms,
    LateFeeKind,
    capped_fee,
    fee_room,
    late_fee_due,
    present_value,
)
from shared import audit
from shared.db import utcnow
from shared.observability import event

BATCH_SIZE = 5_000  # loans per batch: big enough to amortise round trips, small locks

# What the platform's guarantee settled of a loan being charged off (the hook writes its own
# ledger entry); the charge-off writes off the rest.
ChargeOffHook = Callable[[AsyncSession, Loan, date], Awaitable[int]]


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
    *,
    legal_cap_apr: Decimal = DEFAULT_POLICY.legal_cap_apr,
    on_charge_off: ChargeOffHook | None = None,
    progress: Callable[[str], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> DelinquencyRun:
    """Bring every active loan up to date as of ``as_of``; counts of what this run changed.

    Only the loans this can change are visited: those with an unpaid instalment due by
    ``as_of``, those still showing days past due, and those never serviced, unless a run has
    serviced them as of that day already (nothing falls due within a day; payments keep their
    own loan's standing). Any other active loan is current with nothing falling due, so it
    keeps its standing (and its ``delinquency_as_of``: the day its standing last changed).

    Each loan follows its product's ``CollectionTerms`` (grace, late fee, charge-off day); late
    fees are capped so the loan's all-in APR stays at or under ``legal_cap_apr``
    (``pricing.collections``). ``on_charge_off`` settles what a guarantee covers before the
    rest is written off. ``progress`` hears one line per batch."""
    done = DelinquencyRun()
    loan_ids = await repository.loans_to_service(session, as_of)
    for start in range(0, len(loan_ids), batch_size):
        batch = await repository.lock_active_loans(session, loan_ids[start : start + batch_size])
        done.loans_checked += len(batch)  # the rest are held by another run, or closed
        await _service_batch(session, batch, as_of, legal_cap_apr, on_charge_off, done)
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
    legal_cap_apr: Decimal,
    on_charge_off: ChargeOffHook | None,
    done: DelinquencyRun,
) -> None:
    """Service one locked batch of loans: the same rules, row by row, as a loan at a time."""
    loans = {loan.id: loan for loan in batch}
    terms_of = await repository.collection_terms(
        session, [loan.product_version_id for loan in batch]
    )

    def terms(loan_id: uuid.UUID) -> CollectionTerms:
        return terms_of.get(loans[loan_id].product_version_id) or CollectionTerms()

    rows = await repository.due_unpaid_installments(session, list(loans), as_of)
    interest: list[repository.NewLedgerEntry] = []
    wanted: list[tuple[Installment, int, str, date]] = []  # (row, fee, key, effective date)
    for row in rows:
        if row.interest_charged is None:
            # As ``crediting.charge_interest``: the interest falls due once, on its due date.
            if row.interest > 0:
                interest.append(
                    repository.NewLedgerEntry(
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
        loan_terms = terms(row.loan_id)
        late_since = row.due_date + timedelta(days=loan_terms.grace_days + 1)
        if as_of < late_since:
            continue  # still within its grace period
        if row.status == InstallmentStatus.due:
            row.status = InstallmentStatus.late
            done.installments_late += 1
        fee_terms = loan_terms.late_fee
        earned = late_fee_due(
            fee_terms,
            payment=row.payment,
            overdue=row.principal + row.interest_charged - row.paid_amount,
            late_since=late_since,
            as_of=as_of,
        )
        if earned > row.late_fee:  # a fee already charged shows here; the ledger key is the guard
            if fee_terms.kind == LateFeeKind.daily_rate:
                key = ledger.late_fee_key(row.n, as_of)
                wanted.append((row, earned - row.late_fee, key, as_of))
            elif row.late_fee == 0:
                wanted.append((row, earned, ledger.late_fee_key(row.n), late_since))
    await repository.append_ledger_entries(session, interest)
    fees = await _capped_fees(session, loans, wanted, legal_cap_apr)
    charged = await repository.append_ledger_entries(
        session,
        [
            repository.NewLedgerEntry(
                loan_id=row.loan_id,
                entry_type=LedgerEntryType.late_fee,
                entry_key=key,
                amount=fee,
                effective_date=on,
                installment_n=row.n,
            )
            for (_, key), (row, fee, on) in fees.items()
        ],
    )
    for loan_id, entry_key in charged:
        row, fee, _ = fees[(loan_id, entry_key)]
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
            standings.append((loan.id, days, amounts.bucket_for(days).value))
            if amounts.worse_bucket(days, than=loan.days_past_due):
                worsened.append((loan.id, days, amounts.bucket_for(days)))
        if days >= terms(loan.id).charge_off_days:
            to_charge_off.append(loan.id)
    await repository.set_delinquency(session, standings, as_of)
    await loan_events.loans_delinquent(session, worsened)
    for loan_id in to_charge_off:
        held = await repository.loan_for_platform(session, loan_id)  # locked by this batch already
        if held is not None and await _charge_off(session, held, as_of, on_charge_off):
            done.charged_off += 1


async def _capped_fees(
    session: AsyncSession,
    loans: dict[uuid.UUID, repository.LoanStanding],
    wanted: list[tuple[Installment, int, str, date]],
    legal_cap_apr: Decimal,
) -> dict[tuple[uuid.UUID, str], tuple[Installment, int, date]]:
    """The fees of ``wanted`` each loan's APR cap still leaves room for, by (loan, key)."""
    if not wanted:
        return {}
    schedules = await repository.installments_of(session, list({r.loan_id for r, *_ in wanted}))
    room: dict[uuid.UUID, Decimal] = {}
    for loan_id, schedule in schedules.items():
        room[loan_id] = fee_room(
            principal=loans[loan_id].principal,
            upfront_fee=loans[loan_id].upfront_fee,
            payments=[r.payment for r in schedule],
            fees={r.n: r.late_fee for r in schedule if r.late_fee},
            cap=legal_cap_apr,
        )
    fees: dict[tuple[uuid.UUID, str], tuple[Installment, int, date]] = {}
    for row, fee, key, on in wanted:
        allowed = capped_fee(room[row.loan_id], n=row.n, wanted=fee, cap=legal_cap_apr)
        if allowed < fee:
            event("loan.late_fee_capped", loan_id=str(row.loan_id), n=row.n, wanted=fee)
        if allowed > 0:
            room[row.loan_id] -= present_value(allowed, n=row.n, cap=legal_cap_apr)
            fees[(row.loan_id, key)] = (row, allowed, on)
    return fees


async def _charge_off(
    session: AsyncSession, loan: Loan, as_of: date, on_charge_off: ChargeOffHook | None
) -> bool:
    """Write the loan off once; True if this call did.

    Interest stops: instalments not yet due are owed as principal only. A guarantee (the hook)
    settles what it covers first, with its own ledger entry; the rest is written off."""
    charged = await repository.transition(
        session, loan.id, expected=LoanStatus.active, new=LoanStatus.charged_off, closed_at=utcnow()
    )
    if charged is None:
        return False
    for row in await repository.installments(session, loan.id, for_update=True):
        if row.status != InstallmentStatus.paid and row.interest_charged is None:
            row.interest_charged = 0
    await session.flush()
    guaranteed = await on_charge_off(session, charged, as_of) if on_charge_off else 0
    balance = await repository.ledger_balance(session, loan.id)
    await repository.append_ledger_entry(
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
            "guarantee_paid": guaranteed,
        },
    )
    event("loan.charged_off", loan_id=str(loan.id), days_past_due=loan.days_past_due)
    return True
