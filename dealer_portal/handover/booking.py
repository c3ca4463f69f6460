"""A deal's loan: booked on the deal's locked product version, for its buyer, dealer, car and
grade — at confirmation on the deal's own figures, after an accepted counter-offer on the
counter-offer's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal.models import DealerDeal
from marketplace.servicing import service as servicing_service
from marketplace.servicing.models import Loan
from shared.identity.principal import Principal


async def book_deal_loan(
    session: AsyncSession,
    actor: Principal,
    deal: DealerDeal,
    *,
    principal: int,
    annual_rate: Decimal,
    term_months: int,
    auto_fund: bool,
    loan_date: date,
) -> Loan:
    """Book the deal's loan of ``principal`` at ``annual_rate`` over ``term_months``; everything
    else (product, method, fee, grade, guarantee, car) is the deal's."""
    return await servicing_service.book_loan(
        session,
        actor,
        preapproval_id=deal.preapproval_id,
        offer_id=deal.offer_id,
        product_version_id=deal.product_version_id,
        lender_id=deal.lender_id,
        buyer_id=deal.buyer_id,
        dealer_id=deal.dealer_id,
        principal=principal,
        annual_rate=annual_rate,
        term_months=term_months,
        method=deal.method,
        upfront_fee=deal.upfront_fee,
        grade=deal.grade,
        pd=deal.pd,
        platform_guarantee=deal.platform_guarantee,
        auto_fund=auto_fund,
        loan_date=loan_date,
        vehicle={
            "vin": deal.vin,
            "make": deal.make,
            "model": deal.model,
            "vehicle_type": deal.vehicle_type,
            "price": deal.car_price,
        },
    )
