"""The decision's transitions: each one conditional UPDATE … RETURNING of the deal row (through
``dealer_portal.repository.update_where``), so of racing callers exactly one gets the row. The
first step of a flow names the deal's tenant (``dealer_id``, ``lender_id`` or ``buyer_id``);
the steps after a tenant-checked read act by deal id and say so."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal import repository as deal_repository
from dealer_portal.decisions.models import (
    SIGNABLE,
    DecisionStatus,
    Stipulation,
    StipulationStatus,
)
from dealer_portal.models import DealerDeal, DealStatus, DownPaymentStatus

_update = deal_repository.update_where  # one conditional update for every transition


def _decision_is(*statuses: DecisionStatus) -> ColumnElement[bool]:
    return col(DealerDeal.decision_status).in_([s.value for s in statuses])


def _confirmed() -> ColumnElement[bool]:
    return col(DealerDeal.status) == DealStatus.confirmed.value


async def start_decision(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    dealer_id: uuid.UUID,
    due_at: datetime | None,
    now: datetime,
) -> DealerDeal | None:
    """A just-confirmed deal enters the decision: waiting for its lender until ``due_at``, or
    (without one) approved at once by the product's rules. None unless it is confirmed and had
    no decision yet."""
    values: dict[str, Any] = (
        {"decision_status": DecisionStatus.approved.value, "decided_at": now}
        if due_at is None
        else {"decision_status": DecisionStatus.decision_required.value, "decision_due_at": due_at}
    )
    return await _update(
        session,
        deal_id,
        where=[
            col(DealerDeal.dealer_id) == dealer_id,
            _confirmed(),
            col(DealerDeal.decision_status).is_(None),
        ],
        values=values,
        now=now,
    )


def _lenders_deal_in(lender_id: uuid.UUID, *statuses: DecisionStatus) -> list[ColumnElement[bool]]:
    """The lender's confirmed deal whose decision is one of ``statuses``."""
    return [col(DealerDeal.lender_id) == lender_id, _confirmed(), _decision_is(*statuses)]


async def record_decision(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    lender_id: uuid.UUID,
    decision: DecisionStatus,
    reasons: list[str] | None,
    counter_offer: dict[str, Any] | None,
    now: datetime,
) -> DealerDeal | None:
    """``decision_required → approved | conditions | countered`` by the deal's lender; None
    unless the deal still waits for it (of racing decisions, one wins)."""
    values: dict[str, Any] = {"decided_at": now, "decision_status": decision.value}
    if counter_offer is not None:
        values["counter_offer"] = counter_offer
    if reasons:
        values["decision_reasons"] = reasons
    return await _update(
        session,
        deal_id,
        where=_lenders_deal_in(lender_id, DecisionStatus.decision_required),
        values=values,
        now=now,
    )


async def decline_by_lender(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    lender_id: uuid.UUID,
    reasons: list[str],
    now: datetime,
) -> DealerDeal | None:
    """``decision_required | conditions | countered → declined`` by the deal's lender."""
    return await _update(
        session,
        deal_id,
        where=_lenders_deal_in(
            lender_id,
            DecisionStatus.decision_required,
            DecisionStatus.conditions,
            DecisionStatus.countered,
        ),
        values={
            "decision_status": DecisionStatus.declined.value,
            "decided_at": now,
            "decision_reasons": reasons,
        },
        now=now,
    )


def _countered_for(buyer_id: uuid.UUID) -> list[ColumnElement[bool]]:
    """The buyer's confirmed deal with a counter-offer waiting for their answer."""
    return [
        col(DealerDeal.buyer_id) == buyer_id,
        _confirmed(),
        _decision_is(DecisionStatus.countered),
    ]


async def decline_counter_offer(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    buyer_id: uuid.UUID,
    counter_offer: dict[str, Any],
    now: datetime,
) -> DealerDeal | None:
    """``countered → declined`` by the deal's buyer (``counter_offer`` records the answer)."""
    return await _update(
        session,
        deal_id,
        where=_countered_for(buyer_id),
        values={
            "decision_status": DecisionStatus.declined.value,
            "decided_at": now,
            "decision_reasons": ["counter_offer_declined"],
            "counter_offer": counter_offer,
        },
        now=now,
    )


async def accept_counter_offer(
    session: AsyncSession, deal_id: uuid.UUID, *, buyer_id: uuid.UUID, now: datetime
) -> DealerDeal | None:
    """``countered → approved`` by the deal's buyer."""
    return await _update(
        session,
        deal_id,
        where=_countered_for(buyer_id),
        values={"decision_status": DecisionStatus.approved.value, "decided_at": now},
        now=now,
    )


async def replace_loan(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    old_loan_id: uuid.UUID,
    loan_id: uuid.UUID,
    loan_terms: dict[str, Any],
    now: datetime,
) -> DealerDeal | None:
    """The deal's loan re-booked (an accepted counter-offer): the new loan and its terms
    (principal, rate, figures, quote) replace the old one's; None if the loan changed since."""
    return await _update(
        session,
        deal_id,
        where=[col(DealerDeal.loan_id) == old_loan_id],
        values={"loan_id": loan_id, **loan_terms},
        now=now,
    )


async def mark_contract_signed(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    loan_id: uuid.UUID,
    sha256: str,
    now: datetime,
) -> DealerDeal | None:
    """The contract of the deal's current loan signed, once, while it is signable."""
    return await _update(
        session,
        deal_id,
        where=[
            col(DealerDeal.loan_id) == loan_id,
            col(DealerDeal.contract_signed_at).is_(None),
            _confirmed(),
            _decision_is(*SIGNABLE),
        ],
        values={"contract_signed_sha256": sha256, "contract_signed_at": now},
        now=now,
    )


async def record_insurance(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    dealer_id: uuid.UUID,
    insurance: dict[str, Any],
    now: datetime,
) -> DealerDeal | None:
    """Keep the car's insurance policy on the dealer's deal."""
    return await _update(
        session,
        deal_id,
        where=[col(DealerDeal.dealer_id) == dealer_id],
        values={"insurance": insurance},
        now=now,
    )


async def hand_over_when_ready(
    session: AsyncSession, deal_id: uuid.UUID, now: datetime
) -> DealerDeal | None:
    """``confirmed → handed_over`` once the lender approved, the buyer signed the contract of
    the deal's current loan and the down payment is paid; None while any is missing (or when
    someone else already handed it over). Every caller first changed one of these conditions on
    the deal row itself, so racing callers queue on that row and the last one sees them all."""
    return await _update(
        session,
        deal_id,
        where=[
            _confirmed(),
            _decision_is(DecisionStatus.approved),
            col(DealerDeal.contract_signed_at).is_not(None),
            col(DealerDeal.down_payment_status) == DownPaymentStatus.paid.value,
        ],
        values={"status": DealStatus.handed_over, "handed_over_at": now},
        now=now,
    )


async def approve_when_stipulations_satisfied(
    session: AsyncSession, deal_id: uuid.UUID, now: datetime
) -> DealerDeal | None:
    """``conditions → approved`` when no stipulation of the deal is left unsatisfied."""
    open_stipulation = exists().where(
        col(Stipulation.deal_id) == deal_id,
        col(Stipulation.status) != StipulationStatus.satisfied.value,
    )
    return await _update(
        session,
        deal_id,
        where=[_decision_is(DecisionStatus.conditions), ~open_stipulation],
        values={"decision_status": DecisionStatus.approved.value},
        now=now,
    )
