"""The webhook events about deals, written with the change (``shared.webhooks.outbox``): to the
deal's dealer and the lender financing it. Ids, amounts and states only."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal.models import DealerDeal
from shared.webhooks import outbox
from shared.webhooks.models import EventType


def _deal(deal: DealerDeal) -> dict[str, object]:
    return {
        "deal_id": deal.id,
        "loan_id": deal.loan_id,
        "dealer_id": deal.dealer_id,
        "lender_id": deal.lender_id,
        "status": deal.status,
        "principal": deal.principal,
        "down_payment_amount": deal.down_payment_amount,
        "term_months": deal.term_months,
        "annual_rate": deal.annual_rate,
    }


async def deal_submitted(session: AsyncSession, deal: DealerDeal) -> None:
    """The dealer confirmed the deal: the approval is consumed and the loan booked with the
    lender (the deal is now the lender's to fund)."""
    await outbox.emit(
        session, [deal.lender_id, deal.dealer_id], EventType.deal_submitted, _deal(deal)
    )


async def deal_handed_over(session: AsyncSession, deal: DealerDeal) -> None:
    """The down payment is paid and the car handed over."""
    data = _deal(deal) | {"handed_over_at": deal.handed_over_at}
    await outbox.emit(session, [deal.lender_id, deal.dealer_id], EventType.deal_handed_over, data)


async def deal_decision_required(session: AsyncSession, deal: DealerDeal) -> None:
    """The confirmed deal waits for the lender's decision; the clock runs to ``decision_due_at``."""
    data = _deal(deal) | {"decision_due_at": deal.decision_due_at}
    await outbox.emit(
        session, [deal.lender_id, deal.dealer_id], EventType.deal_decision_required, data
    )


async def deal_signed(session: AsyncSession, deal: DealerDeal) -> None:
    """The buyer signed the loan contract (the SHA-256 of the PDF they saw)."""
    data = _deal(deal) | {
        "contract_signed_at": deal.contract_signed_at,
        "contract_sha256": deal.contract_signed_sha256,
    }
    await outbox.emit(session, [deal.lender_id, deal.dealer_id], EventType.deal_signed, data)
