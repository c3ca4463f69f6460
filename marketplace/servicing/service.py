"""Loans: booking, funding, cancelling, and what buyers and lenders see of them.

Every status change is a conditional update (``WHERE status = <expected>``) with an audit entry;
services only flush. Repayments live in ``repayments``, the daily delinquency pass in
``delinquency``; the arithmetic every one of them shares is here (``amounts``, ``payoff_for``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.collateral import service as collateral
from marketplace.servicing import events as loan_events
from marketplace.servicing import ledger, repository
from marketplace.servicing.exceptions import (
    LoanAlreadyBooked,
    LoanNotFound,
    PayoffDateInvalid,
)
from marketplace.servicing.models import (
    Bucket,
    Installment,
    InstallmentStatus,
    LedgerEntryType,
    Loan,
    LoanStatus,
)
from pricing import PayoffQuote, due_dates, payoff_quote, quote_loan
from pricing.loan_math import ScheduleRow
from shared import audit
from shared.db import insert_unique, utcnow
from shared.identity.principal import Principal
from shared.observability import event


async def book_loan(
    session: AsyncSession,
    actor: Principal,
    *,
    preapproval_id: uuid.UUID,
    offer_id: uuid.UUID,
    product_version_id: uuid.UUID,
    lender_id: uuid.UUID,
    buyer_id: uuid.UUID,
    dealer_id: uuid.UUID | None,
    principal: int,
    annual_rate: Decimal,
    term_months: int,
    method: str,
    upfront_fee: int,
    grade: str,
    platform_guarantee: bool,
    auto_fund: bool,
    loan_date: date,
    vehicle: dict[str, Any],
    pd: Decimal | None = None,
) -> Loan:
    """Book a loan waiting for funding, with the calculator's schedule for its terms (first
    instalment due one month after ``loan_date``), its disbursement in the ledger and an audit
    entry. Raises ``LoanAlreadyBooked`` (409) if the pre-approval already has a live loan."""
    quote = quote_loan(principal, annual_rate, term_months, method, upfront_fee)
    loan = Loan(
        preapproval_id=preapproval_id,
        offer_id=offer_id,
        product_version_id=product_version_id,
        lender_id=lender_id,
        buyer_id=buyer_id,
        dealer_id=dealer_id,
        status=LoanStatus.pending_funding,
        principal=principal,
        annual_rate=annual_rate,
        apr=quote.apr,
        term_months=term_months,
        method=quote.method.value,
        upfront_fee=upfront_fee,
        monthly_payment=quote.monthly_payment,
        grade=grade,
        pd=pd,
        platform_guarantee=platform_guarantee,
        auto_fund=auto_fund,
        loan_date=loan_date,
        vehicle=vehicle,
    )
    if not await insert_unique(session, loan):
        raise LoanAlreadyBooked()
    session.add_all(
        Installment(
            loan_id=loan.id,
            n=row.n,
            due_date=due,
            payment=row.payment,
            principal=row.principal,
            interest=row.interest,
            balance=row.balance,
        )
        for row, due in zip(quote.schedule, due_dates(loan_date, term_months), strict=True)
    )
    await session.flush()
    await ledger.append(
        session,
        loan_id=loan.id,
        entry_type=LedgerEntryType.disbursement,
        entry_key=ledger.disbursement_key(),
        amount=principal,
        effective_date=loan_date,
    )
    audit.record(
        session,
        actor=actor,
        action="loan.booked",
        subject_type="loan",
        subject_id=loan.id,
        after={
            "status": str(loan.status),
            "principal": principal,
            "annual_rate": str(annual_rate),
            "term_months": term_months,
            "lender_id": str(lender_id),
            "preapproval_id": str(preapproval_id),
            "dealer_id": str(dealer_id) if dealer_id else None,
        },
    )
    await session.flush()
    event("loan.booked", loan_id=str(loan.id), lender_id=str(lender_id))
    return loan


async def _transitioned(
    session: AsyncSession,
    actor: Principal | str,
    loan: Loan | None,
    *,
    action: str,
    before: LoanStatus,
) -> Loan | None:
    if loan is not None:
        audit.record(
            session,
            actor=actor,
            action=action,
            subject_type="loan",
            subject_id=loan.id,
            before={"status": str(before)},
            after={"status": str(loan.status)},
        )
        await session.flush()
        event(action, loan_id=str(loan.id))
    return loan


async def activate_at_handover(
    session: AsyncSession, actor: Principal | str, loan_id: uuid.UUID
) -> Loan | None:
    """Fund an auto-funded loan when its car is handed over (pending_funding → active); None
    when the product leaves funding to the lender or the loan is no longer pending."""
    loan = await repository.transition(
        session,
        loan_id,
        expected=LoanStatus.pending_funding,
        new=LoanStatus.active,
        where=[col(Loan.auto_fund).is_(True)],
        funded_at=utcnow(),
    )
    await loan_events.loan_funded(session, loan)
    await collateral.open_for_funded_loan(session, loan)
    return await _transitioned(
        session, actor, loan, action="loan.activated", before=LoanStatus.pending_funding
    )


async def cancel_before_handover(
    session: AsyncSession, actor: Principal | str, loan_id: uuid.UUID
) -> Loan | None:
    """Cancel a loan whose deal was cancelled before handover (pending_funding → cancelled);
    None if it is no longer pending."""
    loan = await repository.transition(
        session,
        loan_id,
        expected=LoanStatus.pending_funding,
        new=LoanStatus.cancelled,
        closed_at=utcnow(),
    )
    return await _transitioned(
        session, actor, loan, action="loan.cancelled", before=LoanStatus.pending_funding
    )


# -- amounts ---------------------------------------------------------------------------------


def schedule_of(rows: Sequence[Installment]) -> tuple[ScheduleRow, ...]:
    """The contract schedule, as the calculator states it."""
    return tuple(ScheduleRow(r.n, r.payment, r.principal, r.interest, r.balance) for r in rows)


def principal_paid(row: Installment) -> int:
    """Within an instalment, payments go to its interest first, then its principal."""
    if row.status == InstallmentStatus.paid:
        return row.principal
    return min(max(row.paid_amount - (row.interest_charged or 0), 0), row.principal)


def fee_owed(row: Installment) -> int:
    return row.late_fee - row.late_fee_paid


def installment_owed(row: Installment) -> int:
    """What settles this instalment now: its fees, then principal and interest (the scheduled
    interest if it has not been charged yet), less what was already paid."""
    if row.status == InstallmentStatus.paid:
        return 0
    interest = row.interest if row.interest_charged is None else row.interest_charged
    return fee_owed(row) + row.principal + interest - row.paid_amount


def outstanding_principal(rows: Sequence[Installment]) -> int:
    return sum(row.principal - principal_paid(row) for row in rows)


def payoff_for(loan: Loan, rows: Sequence[Installment], on: date) -> PayoffQuote:
    """What closes the loan on ``on``: ``pricing.payoff_quote`` for the instalments whose
    interest is not charged yet, plus what remains of those already charged, plus late fees."""
    if on < loan.loan_date:
        raise PayoffDateInvalid()
    open_rows = [r for r in rows if r.status != InstallmentStatus.paid]
    uncharged = {r.n for r in open_rows if r.interest_charged is None}
    fees = sum(fee_owed(r) for r in open_rows)
    quote = payoff_quote(
        loan.loan_date, schedule_of(rows), {r.n for r in rows} - uncharged, on, fees_due=fees
    )
    principal, interest = quote.principal, quote.interest
    for row in open_rows:
        if row.interest_charged is not None:
            charged = row.interest_charged
            principal += row.principal - principal_paid(row)
            interest += charged - min(row.paid_amount, charged)
    return PayoffQuote(
        on=on, amount=principal + interest + fees, principal=principal, interest=interest, fees=fees
    )


def interest_to_payoff(loan: Loan, rows: Sequence[Installment], n: int, on: date) -> int:
    """Instalment ``n``'s interest if the loan is paid off on ``on``: all of it once due, the
    part accrued in the current period, nothing for later periods (``pricing.payoff_quote``)."""
    others = {r.n for r in rows if r.n != n}
    return payoff_quote(loan.loan_date, schedule_of(rows), others, on).interest


def days_past_due(rows: Sequence[Installment], as_of: date) -> int:
    """Days since the oldest unpaid instalment fell due (0 if none is overdue)."""
    overdue = [
        r.due_date for r in rows if r.status != InstallmentStatus.paid and r.due_date < as_of
    ]
    return (as_of - min(overdue)).days if overdue else 0


def bucket_for(days: int) -> Bucket:
    if days <= 0:
        return Bucket.current
    if days <= 30:
        return Bucket.dpd_1_30
    if days <= 60:
        return Bucket.dpd_31_60
    if days <= 90:
        return Bucket.dpd_61_90
    return Bucket.dpd_90_plus


def worse_bucket(days: int, *, than: int) -> bool:
    """Whether ``days`` past due puts a loan in a worse bucket than ``than`` days did."""
    return days > than and bucket_for(days) != bucket_for(than)


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoanWithSchedule:
    loan: Loan
    installments: list[Installment]


async def buyer_loan(
    session: AsyncSession, buyer: Principal, loan_id: uuid.UUID
) -> LoanWithSchedule:
    """One of the buyer's own loans with its schedule; anyone else's is 404."""
    loan = await repository.buyer_loan(session, loan_id, buyer_id=buyer.uid)
    if loan is None:
        raise LoanNotFound()
    return LoanWithSchedule(loan, await repository.installments(session, loan.id))


async def buyer_payoff(
    session: AsyncSession, buyer: Principal, loan_id: uuid.UUID, on: date
) -> PayoffQuote:
    found = await buyer_loan(session, buyer, loan_id)
    return payoff_for(found.loan, found.installments, on)


async def list_buyer_loans(
    session: AsyncSession, buyer: Principal, *, limit: int, offset: int
) -> tuple[list[LoanWithSchedule], int]:
    loans, total = await repository.buyer_loans(
        session, buyer_id=buyer.uid, limit=limit, offset=offset
    )
    rows = await repository.installments_of(session, [loan.id for loan in loans])
    return [LoanWithSchedule(loan, rows[loan.id]) for loan in loans], total


async def list_lender_loans(
    session: AsyncSession, lender: Principal, *, limit: int, offset: int
) -> tuple[list[LoanWithSchedule], int]:
    loans, total = await repository.lender_loans(
        session, lender_id=lender.org_id, limit=limit, offset=offset
    )
    rows = await repository.installments_of(session, [loan.id for loan in loans])
    return [LoanWithSchedule(loan, rows[loan.id]) for loan in loans], total


@dataclass(frozen=True)
class Reconciliation:
    """A loan's ledger against its schedule rows; ``differences`` is empty when they agree."""

    ledger_balance: int
    schedule_balance: int
    differences: list[str]


async def reconcile(session: AsyncSession, loan_id: uuid.UUID) -> Reconciliation:
    """Check, to the fen, that the ledger and the instalment rows tell the same story."""
    loan = await repository.loan_by_id(session, loan_id)
    if loan is None:
        raise LoanNotFound()
    rows = await repository.installments(session, loan_id)
    entries = await ledger.entries(session, loan_id)
    differences: list[str] = []

    def total(entry_type: LedgerEntryType, n: int | None = None) -> int:
        return sum(
            e.amount
            for e in entries
            if e.entry_type == entry_type and (n is None or e.installment_n == n)
        )

    if total(LedgerEntryType.disbursement) != loan.principal:
        differences.append("disbursement differs from the principal")
    if sum(r.principal for r in rows) != loan.principal:
        differences.append("schedule principal differs from the principal")
    for row in rows:
        if total(LedgerEntryType.instalment_due, row.n) != (row.interest_charged or 0):
            differences.append(f"interest of instalment {row.n} differs")
        if total(LedgerEntryType.late_fee, row.n) != row.late_fee:
            differences.append(f"late fee of instalment {row.n} differs")
    received = -(total(LedgerEntryType.payment) + total(LedgerEntryType.payoff))
    applied = sum(r.paid_amount + r.late_fee_paid for r in rows)
    if received != applied:
        differences.append(f"payments received {received} differ from applied {applied}")
    owed = sum(
        r.principal + (r.interest_charged or 0) + r.late_fee - r.paid_amount - r.late_fee_paid
        for r in rows
    )
    # Written off, paid by the guarantee, or reinstated by a recovery: off the rows' books.
    schedule_balance = (
        owed
        + total(LedgerEntryType.charge_off)
        + total(LedgerEntryType.guarantee_claim)
        + total(LedgerEntryType.recovery)
    )
    ledger_balance = sum(e.amount for e in entries)
    if ledger_balance != schedule_balance:
        differences.append(f"ledger balance {ledger_balance} != schedule {schedule_balance}")
    return Reconciliation(ledger_balance, schedule_balance, differences)


# -- the lender's portfolio ------------------------------------------------------------------

BUCKETS = tuple(bucket.value for bucket in Bucket)


@dataclass
class GradeFigures:
    grade: str
    count: int = 0
    active: int = 0
    paid_off: int = 0
    charged_off: int = 0
    outstanding_balance: int = 0
    guaranteed_outstanding: int = 0
    buckets: dict[str, int] | None = None

    @property
    def default_rate(self) -> Decimal:
        """Realised: loans charged off ÷ loans booked."""
        if not self.count:
            return Decimal(0)
        return (Decimal(self.charged_off) / self.count).quantize(Decimal("0.0001"))


async def portfolio(session: AsyncSession, lender: Principal) -> list[GradeFigures]:
    """Performance of the lender's loans by grade (P4: with the platform's guaranteed exposure)."""
    figures: dict[str, GradeFigures] = {}
    for grade, status, bucket, guaranteed, count, balance in await repository.portfolio_groups(
        session, lender.org_id
    ):
        grade_figures = figures.setdefault(
            grade, GradeFigures(grade, buckets=dict.fromkeys(BUCKETS, 0))
        )
        assert grade_figures.buckets is not None
        grade_figures.count += count
        if status == LoanStatus.active:
            grade_figures.active += count
            grade_figures.outstanding_balance += balance
            grade_figures.buckets[bucket] = grade_figures.buckets.get(bucket, 0) + count
            if guaranteed:
                grade_figures.guaranteed_outstanding += balance
        elif status == LoanStatus.paid_off:
            grade_figures.paid_off += count
        elif status == LoanStatus.charged_off:
            grade_figures.charged_off += count
    return [figures[grade] for grade in sorted(figures)]
