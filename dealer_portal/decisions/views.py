"""What the dealer, the lender and the buyer see of a deal's decision (read-only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal.decisions import repository
from dealer_portal.decisions.models import DecisionStatus, Stipulation
from dealer_portal.decisions.schemas import (
    CounterOfferPublic,
    DecisionDeal,
    DecisionPublic,
    DocumentPublic,
    InsurancePublic,
    StipulationPublic,
)
from dealer_portal.models import DealerDeal, DealStatus, DownPaymentStatus
from marketplace.servicing import repository as servicing_repository
from pricing import RiskPolicy
from pricing.fair_price import max_fair_rate
from shared.schemas import mask_name

WAITING = (DecisionStatus.decision_required.value, DecisionStatus.countered.value)


def handover_waits_for(deal: DealerDeal) -> list[str]:
    """What a confirmed deal still needs before the car leaves: ``decision``,
    ``contract_signed``, ``down_payment`` (empty once handed over or cancelled)."""
    if deal.status != DealStatus.confirmed:
        return []
    missing = []
    if deal.decision_status != DecisionStatus.approved.value:
        missing.append("decision")
    if deal.contract_signed_at is None:
        missing.append("contract_signed")
    if deal.down_payment_status != DownPaymentStatus.paid.value:
        missing.append("down_payment")
    return missing


def decision_public(
    deal: DealerDeal, stipulations: Sequence[Stipulation], now: datetime
) -> DecisionPublic | None:
    """The decision of a deal on a product that does not auto-fund; None for the others."""
    if deal.decision_status is None:
        return None
    counter = None
    if deal.counter_offer is not None:
        counter = CounterOfferPublic.model_validate(deal.counter_offer)
    return DecisionPublic(
        status=deal.decision_status,
        due_at=deal.decision_due_at,
        overdue=(
            deal.decision_status in WAITING
            and deal.decision_due_at is not None
            and deal.decision_due_at < now
        ),
        decided_at=deal.decided_at,
        reasons=list(deal.decision_reasons or []),
        counter_offer=counter,
        stipulations=[
            StipulationPublic(
                id=s.id,
                type=s.type,
                due_at=s.due_at,
                overdue=s.status != "satisfied" and s.due_at < now,
                status=s.status,
                document_id=s.document_id,
                reason=s.reason,
                reviewed_at=s.reviewed_at,
            )
            for s in stipulations
        ],
        contract_signed_at=deal.contract_signed_at,
        contract_sha256=deal.contract_signed_sha256,
        insurance=None if deal.insurance is None else InsurancePublic(**deal.insurance),
        handover_waits_for=handover_waits_for(deal),
    )


async def decisions_of(
    session: AsyncSession, deals: Sequence[DealerDeal], now: datetime
) -> dict[object, DecisionPublic | None]:
    """Each deal's decision, the stipulations read in one query."""
    manual = [d.id for d in deals if d.decision_status is not None]
    stipulations = await repository.stipulations_of(session, manual)
    return {d.id: decision_public(d, stipulations.get(d.id, []), now) for d in deals}


async def max_counter_rate(session: AsyncSession, deal: DealerDeal, policy: RiskPolicy) -> Decimal:
    """The highest annual rate a counter-offer may carry: never above the pre-approval's locked
    offer, nor above the fair band of the car's grade."""
    locked = await repository.locked_offer(session, deal.offer_id)
    return min(locked.annual_rate, max_fair_rate(deal.grade, policy, deal.vehicle_type))


async def decision_deals(
    session: AsyncSession,
    deals: Sequence[DealerDeal],
    now: datetime,
    policy: RiskPolicy,
    *,
    with_documents: bool = False,
) -> list[DecisionDeal]:
    decisions = await decisions_of(session, deals, now)
    orgs = await servicing_repository.organization_names(
        session, list({d.dealer_id for d in deals} | {d.lender_id for d in deals})
    )
    views = []
    for deal in deals:
        decision = decisions[deal.id]
        assert decision is not None
        buyer = await repository.user(session, deal.buyer_id)
        documents = await repository.documents_of(session, deal.id) if with_documents else []
        views.append(
            DecisionDeal(
                id=deal.id,
                status=deal.status,
                dealer_id=deal.dealer_id,
                dealer_name=orgs.get(deal.dealer_id, ""),
                lender_id=deal.lender_id,
                lender_name=orgs.get(deal.lender_id, ""),
                loan_id=deal.loan_id,
                buyer_name_masked=mask_name(buyer.full_name if buyer else ""),
                vin=deal.vin,
                make=deal.make,
                model=deal.model,
                vehicle_type=deal.vehicle_type,
                car_price=deal.car_price,
                down_payment=deal.down_payment_amount,
                down_payment_status=deal.down_payment_status,
                principal=deal.principal,
                term_months=deal.term_months,
                annual_rate=deal.annual_rate,
                apr=deal.apr,
                monthly_payment=deal.monthly_payment,
                grade=deal.grade,
                ltv=(Decimal(deal.principal) / Decimal(deal.car_price)).quantize(Decimal("0.0001")),
                max_counter_rate=await max_counter_rate(session, deal, policy),
                confirmed_at=deal.confirmed_at,
                decision=decision,
                documents=[
                    DocumentPublic.model_validate(d, from_attributes=True) for d in documents
                ],
            )
        )
    return views
