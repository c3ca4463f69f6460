"""The lender's review of a stipulation: satisfied or rejected (with a reason); the last one
satisfied approves the deal."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal.decisions import gate, repository
from dealer_portal.decisions.deals import lender_row, lender_view
from dealer_portal.decisions.exceptions import (
    DecisionInvalid,
    StipulationNotFound,
    StipulationNotReviewable,
)
from dealer_portal.decisions.models import DecisionStatus
from dealer_portal.decisions.schemas import DecisionDeal, StipulationReview
from pricing import RiskPolicy
from shared import audit
from shared.db import utcnow
from shared.identity.principal import Principal
from shared.observability import event


async def review_stipulation(
    session: AsyncSession,
    lender: Principal,
    deal_id: uuid.UUID,
    stipulation_id: uuid.UUID,
    body: StipulationReview,
    policy: RiskPolicy,
) -> DecisionDeal:
    """Mark a stipulation satisfied or rejected (with a reason). The deal row is locked first,
    so two reviews of a deal's last two stipulations queue up and the later one approves it."""
    deal = await lender_row(session, lender, deal_id, for_update=True)
    if deal.decision_status != DecisionStatus.conditions.value:
        raise StipulationNotReviewable(variant="decision")
    if await repository.stipulation(session, deal_id, stipulation_id) is None:
        raise StipulationNotFound()
    now = utcnow()
    if body.status == "rejected" and body.reason is None:
        raise DecisionInvalid(field="reason", variant="reason")
    reviewed = await repository.review_stipulation(
        session,
        stipulation_id,
        satisfied=body.status == "satisfied",
        reason=body.reason,
        reviewed_by=lender.actor,
        now=now,
    )
    if reviewed is None:
        raise StipulationNotReviewable()
    audit.record(
        session,
        actor=lender,
        action=f"stipulation.{body.status}",
        subject_type="deal",
        subject_id=deal_id,
        after={"stipulation_id": str(stipulation_id), "type": reviewed.type},
    )
    if body.status == "satisfied":
        approved = await repository.approve_when_stipulations_satisfied(session, deal_id, now)
        if approved is not None:
            audit.record(
                session,
                actor=lender,
                action="deal.decision.conditions_met",
                subject_type="deal",
                subject_id=deal_id,
                before={"decision_status": DecisionStatus.conditions.value},
                after={"decision_status": DecisionStatus.approved.value},
            )
            event("deal.conditions_met", deal_id=str(deal_id))
            await gate.hand_over_if_ready(session, deal_id, now)
    return await lender_view(session, await lender_row(session, lender, deal_id), policy)
