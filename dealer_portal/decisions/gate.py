"""The two steps of the decision flow that the handover itself calls: a confirmed deal starts
waiting for its lender (or is approved by the product's ``auto_approve`` rules), and the last
condition to be met hands the car over — exactly once — leaving what every handover records."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import events as deal_events
from dealer_portal.decisions import repository
from dealer_portal.decisions.models import DecisionStatus
from dealer_portal.decisions.sla import add_working_hours
from dealer_portal.models import DealerDeal, DealStatus
from shared import audit
from shared.identity.principal import Principal
from shared.observability import event
from shared.settings import get_settings


def auto_approves(rules: dict[str, Any] | None, deal: DealerDeal) -> bool:
    """Whether the product's ``auto_approve`` rules (every limit given) take this deal."""
    if not rules:
        return False
    if rules.get("max_amount") is not None and deal.principal > int(rules["max_amount"]):
        return False
    if rules.get("max_ltv") is not None:
        ltv = Decimal(deal.principal) / Decimal(deal.car_price)
        if ltv > Decimal(str(rules["max_ltv"])):
            return False
    grades = rules.get("grades")
    return grades is None or deal.grade in grades


async def start_decision(
    session: AsyncSession,
    actor: Principal | str,
    deal: DealerDeal,
    auto_approve: dict[str, Any] | None,
    now: datetime,
) -> DealerDeal:
    """A just-confirmed deal on a product that does not auto-fund: approved at once when its
    ``auto_approve`` rules match, otherwise waiting for the lender with the decision clock
    running (``AUTOFIN_DECISION_SLA_WORKING_HOURS`` working hours)."""
    if auto_approves(auto_approve, deal):
        due = None
        action = "deal.auto_approved"
        after = {"decision_status": DecisionStatus.approved.value, "decided_at": now.isoformat()}
    else:
        due = add_working_hours(now, get_settings().decision_sla_working_hours)
        action = "deal.decision_required"
        after = {
            "decision_status": DecisionStatus.decision_required.value,
            "decision_due_at": due.isoformat(),
        }
    started = await repository.start_decision(
        session, deal.id, dealer_id=deal.dealer_id, due_at=due, now=now
    )
    assert started is not None  # the same transaction just confirmed it
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="deal",
        subject_id=deal.id,
        after=after,
    )
    event(action, deal_id=str(deal.id))
    if started.decision_status == DecisionStatus.decision_required:
        await deal_events.deal_decision_required(session, started)
    return started


async def hand_over_if_ready(
    session: AsyncSession, deal_id: uuid.UUID, now: datetime
) -> DealerDeal | None:
    """Hand the car over if this change was the last condition (approval, signed contract, paid
    down payment); the handed-over deal, or None. Called by every step that meets one."""
    handed_over = await repository.hand_over_when_ready(session, deal_id, now)
    if handed_over is not None:
        event("deal.handed_over", deal_id=str(deal_id))
        await record_handed_over(
            session,
            handed_over,
            {
                "contract_sha256": handed_over.contract_signed_sha256,
                "loan_id": str(handed_over.loan_id),
            },
        )
    return handed_over


async def record_handed_over(
    session: AsyncSession, handed_over: DealerDeal, details: dict[str, Any]
) -> None:
    """What every handover leaves, whichever condition came last (here, or the down payment of a
    product that auto-funds): the audit entry ``confirmed → handed_over`` with ``details``, and
    the webhook event to the deal's dealer and lender."""
    audit.record(
        session,
        actor=audit.SYSTEM_ACTOR,
        action="deal.handed_over",
        subject_type="deal",
        subject_id=handed_over.id,
        before={"status": DealStatus.confirmed.value},
        after={"status": DealStatus.handed_over.value, **details},
    )
    await deal_events.deal_handed_over(session, handed_over)
