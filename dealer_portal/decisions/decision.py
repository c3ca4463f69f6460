"""The lender's decision on a deal that waits for it: approve, conditions (stipulations),
counter-offer or decline (the state machine is in ``dealer_portal/decisions/__init__.py``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import handover
from dealer_portal.decisions import gate, repository, views
from dealer_portal.decisions.counter_offer import counter_offer
from dealer_portal.decisions.deals import lender_row, lender_view
from dealer_portal.decisions.exceptions import DecisionInvalid, DecisionNotExpected
from dealer_portal.decisions.models import DecisionStatus, Stipulation
from dealer_portal.decisions.schemas import DecisionRequest
from dealer_portal.models import DealerDeal
from pricing import RiskPolicy
from shared import audit
from shared.db import utcnow
from shared.idempotency import StoredResponse, request_fingerprint
from shared.identity.principal import Principal
from shared.observability import event
from shared.payments.gateway import PaymentGateway

STIPULATION_DAYS = 7

_DECIDED = {
    "approve": DecisionStatus.approved,
    "conditions": DecisionStatus.conditions,
    "counter": DecisionStatus.countered,
}


async def decide(
    session: AsyncSession,
    gateway: PaymentGateway,
    lender: Principal,
    deal_id: uuid.UUID,
    body: DecisionRequest,
    policy: RiskPolicy,
    *,
    idempotency_key: str | None,
) -> tuple[StoredResponse, bool]:
    """Record the lender's decision on a deal waiting for it (one decision wins: a conditional
    update from ``decision_required``). A decline cancels the deal as ``/cancel`` does."""
    deal = await lender_row(session, lender, deal_id)
    now = utcnow()
    if body.decision == "decline":
        return await _decline(session, gateway, lender, deal, body, policy, idempotency_key)

    offer = None
    if body.decision == "conditions":
        if not body.stipulations:
            raise DecisionInvalid(field="stipulations", variant="stipulations")
        if len({s.type for s in body.stipulations}) != len(body.stipulations):
            raise DecisionInvalid(field="stipulations", variant="stipulations")
    elif body.decision == "counter":
        if body.counter is None:
            raise DecisionInvalid(field="counter", variant="counter")
        ceiling = await views.max_counter_rate(session, deal, policy)
        figures = counter_offer(deal, body.counter, ceiling, policy)
        offer = figures | {"offered_at": now.isoformat(), "answer": None}
    status = _DECIDED[body.decision]
    decided = await repository.record_decision(
        session,
        deal_id,
        lender_id=lender.org_id,
        decision=status,
        reasons=body.reasons,
        counter_offer=offer,
        now=now,
    )
    if decided is None:
        raise DecisionNotExpected()
    if body.decision == "conditions":
        assert body.stipulations is not None
        session.add_all(
            Stipulation(
                deal_id=deal_id,
                type=s.type.value,
                due_at=s.due_at or now + timedelta(days=STIPULATION_DAYS),
                created_at=now,
            )
            for s in body.stipulations
        )
        await session.flush()
    audit.record(
        session,
        actor=lender,
        action=f"deal.decision.{body.decision}",
        subject_type="deal",
        subject_id=deal_id,
        before={"decision_status": DecisionStatus.decision_required.value},
        after={
            "decision_status": status.value,
            "stipulations": [s.type.value for s in body.stipulations or []],
            "counter_offer": offer,
        },
    )
    event(f"deal.decision.{body.decision}", deal_id=str(deal_id))
    await gate.hand_over_if_ready(session, deal_id, now)
    view = await lender_view(session, decided, policy)
    return StoredResponse(200, view.model_dump(mode="json")), False


async def _decline(
    session: AsyncSession,
    gateway: PaymentGateway,
    lender: Principal,
    deal: DealerDeal,
    body: DecisionRequest,
    policy: RiskPolicy,
    idempotency_key: str | None,
) -> tuple[StoredResponse, bool]:
    if not body.reasons:
        raise DecisionInvalid(field="reasons", variant="reasons")
    deal_id = deal.id
    reasons = body.reasons

    async def cancel_deal(session: AsyncSession) -> DealerDeal:
        now = utcnow()
        declined = await repository.decline_by_lender(
            session, deal_id, lender_id=lender.org_id, reasons=reasons, now=now
        )
        if declined is None:
            raise DecisionNotExpected()
        audit.record(
            session,
            actor=lender,
            action="deal.decision.decline",
            subject_type="deal",
            subject_id=deal_id,
            after={"decision_status": DecisionStatus.declined.value, "reasons": reasons},
        )
        return await handover.cancel_before_handover(
            session, lender, deal_id, now, dealer_id=declined.dealer_id
        )

    async def answer(session: AsyncSession) -> StoredResponse:
        view = await lender_view(session, await lender_row(session, lender, deal_id), policy)
        return StoredResponse(200, view.model_dump(mode="json"))

    return await handover.cancel_in_phases(
        session,
        gateway,
        lender,
        deal_id,
        key=idempotency_key or f"autofin-deal-{deal_id}-decline",
        fingerprint=request_fingerprint("POST", f"/v1/lender/deals/{deal_id}/decision", None),
        cancel_deal=cancel_deal,
        answer=answer,
    )
