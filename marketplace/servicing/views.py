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
from marketplace.servicing.models import Installment, Loan
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
