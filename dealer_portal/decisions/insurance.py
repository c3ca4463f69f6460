"""The car's insurance policy on a deal (one of the lender's funding gates), with its
uploaded document."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal.decisions import repository, views
from dealer_portal.decisions.deals import visible_deal
from dealer_portal.decisions.exceptions import DocumentNotFound, InsuranceNotAccepted
from dealer_portal.decisions.models import DecisionStatus
from dealer_portal.decisions.schemas import DecisionPublic, InsuranceRequest
from dealer_portal.models import DealStatus
from shared import audit
from shared.db import utcnow
from shared.identity.principal import Principal


async def record_insurance(
    session: AsyncSession, dealer: Principal, deal_id: uuid.UUID, body: InsuranceRequest
) -> DecisionPublic:
    """The car's insurance policy (one of the lender's funding gates), with its document."""
    deal = await visible_deal(session, dealer, deal_id, for_update=True)
    if deal.decision_status in (None, DecisionStatus.declined.value) or deal.status not in (
        DealStatus.confirmed,
        DealStatus.handed_over,
    ):
        raise InsuranceNotAccepted()
    if await repository.document(session, deal_id, body.document_id) is None:
        raise DocumentNotFound(field="document_id")
    now = utcnow()
    insurance = body.model_dump(mode="json")
    updated = await repository.record_insurance(
        session, deal_id, dealer_id=dealer.org_id, insurance=insurance, now=now
    )
    assert updated is not None
    audit.record(
        session,
        actor=dealer,
        action="deal.insurance_recorded",
        subject_type="deal",
        subject_id=deal_id,
        after={"document_id": str(body.document_id), "expires_on": insurance["expires_on"]},
    )
    stipulations = await repository.stipulations_of(session, [deal_id])
    decision = views.decision_public(updated, stipulations[deal_id], now)
    assert decision is not None
    return decision
