"""The webhook events about loans, written with the change (``shared.webhooks.outbox``): to the
loan's lender and the dealer that sold the car. Ids, amounts and states only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing import repository
from marketplace.servicing.models import Loan, LoanPayment
from shared.webhooks import outbox
from shared.webhooks.models import EventType


def _loan(loan: Loan) -> dict[str, object]:
    return {
        "loan_id": loan.id,
        "lender_id": loan.lender_id,
        "dealer_id": loan.dealer_id,
        "status": loan.status,
        "principal": loan.principal,
    }


async def loan_funded(session: AsyncSession, loan: Loan | None) -> None:
    """The loan became active: funded by its lender, or automatically at handover."""
    if loan is not None:
        data = _loan(loan) | {"funded_at": loan.funded_at, "auto_fund": loan.auto_fund}
        await outbox.emit(session, [loan.lender_id, loan.dealer_id], EventType.loan_funded, data)


async def payment_succeeded(session: AsyncSession, loan: Loan, payment: LoanPayment) -> None:
    """A repayment (or payoff) was collected and credited."""
    data = _loan(loan) | {
        "payment_id": payment.id,
        "amount": payment.amount,
        "kind": payment.kind,
    }
    await outbox.emit(session, [loan.lender_id, loan.dealer_id], EventType.payment_succeeded, data)


async def loan_paid_off(session: AsyncSession, loan: Loan | None) -> None:
    if loan is not None:
        data = _loan(loan) | {"closed_at": loan.closed_at}
        await outbox.emit(session, [loan.lender_id, loan.dealer_id], EventType.loan_paid_off, data)


async def loans_delinquent(
    session: AsyncSession, worsened: Sequence[tuple[uuid.UUID, int, str]]
) -> None:
    """Loans that entered a worse delinquency bucket (``(loan_id, days_past_due, bucket)``)."""
    if not worsened:
        return
    owners = await repository.loan_owners(session, [loan_id for loan_id, _, _ in worsened])
    for loan_id, days_past_due, bucket in worsened:
        lender_id, dealer_id = owners[loan_id]
        data = {
            "loan_id": loan_id,
            "lender_id": lender_id,
            "dealer_id": dealer_id,
            "days_past_due": days_past_due,
            "bucket": bucket,
        }
        await outbox.emit(session, [lender_id, dealer_id], EventType.loan_delinquent, data)
