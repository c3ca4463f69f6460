"""The deals as dealers and lenders see them: one of the dealer's deals or a page of its pipeline
(with the lender's decision, when there is one), the lender's pipeline across dealers, and the
one shape every deal answer is built from (``deal_public``). Another dealer's deal does not
exist for a dealer (404)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import repository
from dealer_portal.decisions import views as decision_views
from dealer_portal.decisions.schemas import DecisionPublic
from dealer_portal.exceptions import DealNotFound
from dealer_portal.models import DealerDeal, DealStatus
from dealer_portal.schemas import (
    DealPublic,
    DealQuote,
    DownPaymentFailure,
    LenderDealPublic,
    VehiclePublic,
)
from marketplace.servicing import repository as servicing_repository
from shared.db import utcnow
from shared.identity.principal import Principal
from shared.schemas import mask_name


def deal_public(
    deal: DealerDeal, buyer_full_name: str, decision: DecisionPublic | None = None
) -> DealPublic:
    """The deal as every answer shows it: the buyer's name masked, the car, the quote, the down
    payment (and why it failed, if it did) and, for a product the lender decides, the decision."""
    failure = None
    if deal.down_payment_failure_code or deal.down_payment_failure_message:
        failure = DownPaymentFailure(
            code=deal.down_payment_failure_code, message=deal.down_payment_failure_message
        )
    return DealPublic(
        id=deal.id,
        status=deal.status,
        dealer_id=deal.dealer_id,
        preapproval_id=deal.preapproval_id,
        offer_id=deal.offer_id,
        product_version_id=deal.product_version_id,
        lender_id=deal.lender_id,
        loan_id=deal.loan_id,
        buyer_name_masked=mask_name(buyer_full_name),
        vehicle=VehiclePublic(
            vin=deal.vin,
            make=deal.make,
            model=deal.model,
            vehicle_type=deal.vehicle_type,
            price=deal.car_price,
        ),
        down_payment=deal.down_payment_amount,
        down_payment_status=deal.down_payment_status,
        down_payment_failure=failure,
        payment_intent_id=deal.payment_intent_id,
        refund_id=deal.refund_id,
        term_months=deal.term_months,
        quote=DealQuote.model_validate(deal.quote),
        created_by=deal.created_by,
        created_at=deal.created_at,
        confirmed_at=deal.confirmed_at,
        down_payment_paid_at=deal.down_payment_paid_at,
        handed_over_at=deal.handed_over_at,
        cancelled_at=deal.cancelled_at,
        decision=decision,
    )


async def get_deal(session: AsyncSession, dealer: Principal, deal_id: uuid.UUID) -> DealPublic:
    """One of this dealer's deals; another dealer's deal does not exist for it (404)."""
    deal = await repository.get_deal(session, deal_id, dealer_id=dealer.org_id)
    if deal is None:
        raise DealNotFound()
    names = await repository.buyer_names(session, [deal.buyer_id])
    decisions = await decision_views.decisions_of(session, [deal], utcnow())
    return deal_public(deal, names.get(deal.buyer_id, ""), decisions[deal.id])


async def list_deals(
    session: AsyncSession,
    dealer: Principal,
    *,
    status: DealStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[DealPublic], int]:
    rows, total = await repository.list_deals(
        session, dealer.org_id, status=status, limit=limit, offset=offset
    )
    names = await repository.buyer_names(session, list({row.buyer_id for row in rows}))
    decisions = await decision_views.decisions_of(session, rows, utcnow())
    return [deal_public(row, names.get(row.buyer_id, ""), decisions[row.id]) for row in rows], total


async def list_lender_deals(
    session: AsyncSession,
    lender: Principal,
    *,
    status: DealStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[LenderDealPublic], int]:
    """The lender's pipeline: deals structured on its products, with the dealer's name."""
    rows, total = await repository.list_lender_deals(
        session, lender.org_id, status=status, limit=limit, offset=offset
    )
    names = await repository.buyer_names(session, list({row.buyer_id for row in rows}))
    dealers = await servicing_repository.organization_names(
        session, list({row.dealer_id for row in rows})
    )
    items = [
        LenderDealPublic(
            **dict(deal_public(row, names.get(row.buyer_id, ""))),
            dealer_name=dealers.get(row.dealer_id, ""),
        )
        for row in rows
    ]
    return items, total
