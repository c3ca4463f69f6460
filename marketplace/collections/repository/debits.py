"""Collections' SQL for debit attempts: the loans due for a debit, each loan's attempts and their
outcome."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.collections.models import (
    DebitAttempt,
    Mandate,
    MandateStatus,
)
from marketplace.servicing.models import (
    Installment,
    InstallmentStatus,
    Loan,
    LoanPayment,
    LoanStatus,
    PaymentStatus,
)


async def loans_to_debit(
    session: AsyncSession, as_of: date, *, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    """Active loans with a live mandate and an unpaid instalment due by ``as_of``, in id order
    after ``after`` (keyset pages)."""
    query = (
        select(col(Loan.id))
        .join(Mandate, col(Mandate.loan_id) == col(Loan.id))
        .where(
            col(Mandate.status) == MandateStatus.active.value,
            col(Loan.status) == LoanStatus.active.value,
            select(col(Installment.id))
            .where(
                col(Installment.loan_id) == col(Loan.id),
                col(Installment.status) != InstallmentStatus.paid.value,
                col(Installment.due_date) <= as_of,
            )
            .exists(),
        )
        .order_by(col(Loan.id))
        .limit(limit)
    )
    if after is not None:
        query = query.where(col(Loan.id) > after)
    return list((await session.execute(query)).scalars().all())


async def attempts(session: AsyncSession, loan_id: uuid.UUID) -> list[DebitAttempt]:
    result = await session.execute(
        select(DebitAttempt)
        .where(col(DebitAttempt.loan_id) == loan_id)
        .order_by(col(DebitAttempt.installment_n), col(DebitAttempt.attempt))
    )
    return list(result.scalars().all())


async def has_processing_payment(session: AsyncSession, loan_id: uuid.UUID) -> bool:
    result = await session.execute(
        select(col(LoanPayment.id))
        .where(
            col(LoanPayment.loan_id) == loan_id,
            col(LoanPayment.status) == PaymentStatus.processing.value,
        )
        .limit(1)
    )
    return result.first() is not None


@dataclass(frozen=True)
class AttemptView:
    attempt: DebitAttempt
    status: str
    failure_code: str | None


async def attempts_with_outcome(session: AsyncSession, loan_id: uuid.UUID) -> list[AttemptView]:
    """A loan's debit attempts with their payment's outcome, newest first."""
    result = await session.execute(
        select(DebitAttempt, col(LoanPayment.status), col(LoanPayment.failure_code))
        .join(LoanPayment, col(LoanPayment.id) == col(DebitAttempt.payment_id))
        .where(col(DebitAttempt.loan_id) == loan_id)
        .order_by(col(DebitAttempt.attempted_on).desc())
    )
    return [AttemptView(a, str(status), code) for a, status, code in result.all()]
