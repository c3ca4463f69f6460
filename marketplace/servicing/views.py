"""The loans as buyers and lenders see them: one loan or a page of them with their schedules
(the buyer's own or the lender's own; anyone else's is 404), and the buyer's payoff quote."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing import amounts, repository
from marketplace.servicing.exceptions import LoanNotFound
from marketplace.servicing.models import Installment, InstallmentStatus, Loan
from marketplace.servicing.schemas import InstallmentPublic, LoanDetail, LoanSummary, Party
from pricing import PayoffQuote
from shared.identity.principal import Principal


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
    return amounts.payoff_for(found.loan, found.installments, on)


async def list_buyer_loans(
    session: AsyncSession, buyer: Principal, *, limit: int, offset: int
) -> tuple[list[LoanWithSchedule], int]:
    loans, total = await repository.buyer_loans(
        session, buyer_id=buyer.uid, limit=limit, offset=offset
    )
    return await _with_schedules(session, loans), total


async def list_lender_loans(
    session: AsyncSession, lender: Principal, *, limit: int, offset: int
) -> tuple[list[LoanWithSchedule], int]:
    loans, total = await repository.lender_loans(
        session, lender_id=lender.org_id, limit=limit, offset=offset
    )
    return await _with_schedules(session, loans), total


async def _with_schedules(session: AsyncSession, loans: Sequence[Loan]) -> list[LoanWithSchedule]:
    rows = await repository.installments_of(session, [loan.id for loan in loans])
    return [LoanWithSchedule(loan, rows[loan.id]) for loan in loans]


async def details(session: AsyncSession, found: list[LoanWithSchedule]) -> list[LoanDetail]:
    """The loans as their buyer and lender see them: terms, parties, balance and schedule."""
    loans = [f.loan for f in found]
    names = await repository.organization_names(
        session,
        [loan.lender_id for loan in loans] + [loan.dealer_id for loan in loans if loan.dealer_id],
    )
    balances = await repository.ledger_balances(session, [loan.id for loan in loans])
    return [
        _detail(
            f.loan,
            f.installments,
            lender_name=names.get(f.loan.lender_id, ""),
            dealer_name=names.get(f.loan.dealer_id, "") if f.loan.dealer_id else "",
            balance=balances.get(f.loan.id, 0),
        )
        for f in found
    ]


async def buyer_loan_detail(
    session: AsyncSession, buyer: Principal, loan_id: uuid.UUID
) -> LoanDetail:
    """One of the buyer's own loans with its schedule (anyone else's is 404), from one
    statement, so the schedule, the balance and the status agree with each other."""
    shown = await repository.buyer_loan_shown(session, loan_id, buyer_id=buyer.uid)
    if shown is None:
        raise LoanNotFound()
    return _detail(
        shown.loan,
        shown.installments,
        lender_name=shown.lender_name,
        dealer_name=shown.dealer_name,
        balance=shown.balance,
    )


def _detail(
    loan: Loan, rows: list[Installment], *, lender_name: str, dealer_name: str, balance: int
) -> LoanDetail:
    unpaid = [r for r in rows if r.status != InstallmentStatus.paid]
    return LoanDetail(
        id=loan.id,
        status=str(loan.status),
        principal=loan.principal,
        annual_rate=loan.annual_rate,
        apr=loan.apr,
        term_months=loan.term_months,
        method=loan.method,
        upfront_fee=loan.upfront_fee,
        monthly_payment=loan.monthly_payment,
        grade=loan.grade,
        days_past_due=loan.days_past_due,
        bucket=loan.bucket,
        lender=Party(id=loan.lender_id, name=lender_name),
        dealer=Party(id=loan.dealer_id, name=dealer_name) if loan.dealer_id else None,
        vehicle=loan.vehicle,
        loan_date=loan.loan_date,
        platform_guarantee=loan.platform_guarantee,
        auto_fund=loan.auto_fund,
        outstanding_principal=amounts.outstanding_principal(rows),
        balance=balance,
        next_due_date=unpaid[0].due_date if unpaid else None,
        funded_at=loan.funded_at,
        closed_at=loan.closed_at,
        created_at=loan.created_at,
        schedule=[
            InstallmentPublic(
                n=r.n,
                due_date=r.due_date,
                payment=r.payment,
                principal=r.principal,
                interest=r.interest,
                status=str(r.status),
                paid_at=r.paid_at,
                late_fee=r.late_fee,
                paid_amount=r.paid_amount,
                late_fee_paid=r.late_fee_paid,
                amount_due=amounts.installment_owed(r),
            )
            for r in rows
        ],
    )


async def loan_detail(session: AsyncSession, loan: Loan) -> LoanDetail:
    """One loan as its lender and its buyer see it, with its schedule."""
    rows = await repository.installments(session, loan.id)
    return (await details(session, [LoanWithSchedule(loan, rows)]))[0]


def summary(detail: LoanDetail) -> LoanSummary:
    """A loan in a list: its detail without the schedule."""
    return LoanSummary.model_validate(detail.model_dump(exclude={"schedule"}))
