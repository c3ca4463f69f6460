"""SQL for the lender's decision, stipulations, documents and signatures.

A deal's reads take its tenant as a required argument (``lender_id``, ``dealer_id`` or
``buyer_id``); the steps after a tenant-checked read act by deal id and say so. Every change of
state is one conditional UPDATE … RETURNING: of racing callers exactly one gets the row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal import repository as deal_repository
from dealer_portal.decisions.models import (
    SIGNABLE,
    ContractSignature,
    DealDocument,
    DecisionStatus,
    Stipulation,
    StipulationStatus,
)
from dealer_portal.models import DealerDeal, DealStatus, DownPaymentStatus
from marketplace.preapprovals.models import LockedOffer
from marketplace.products.models import ProductVersion
from shared.identity.models import Organization, User
from shared.pagination import paginate


async def _deal(
    session: AsyncSession, deal_id: uuid.UUID, tenant: ColumnElement[bool], *, for_update: bool
) -> DealerDeal | None:
    statement = select(DealerDeal).where(col(DealerDeal.id) == deal_id, tenant)
    if for_update:
        statement = statement.with_for_update()
    result = await session.execute(statement.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def deal_for_lender(
    session: AsyncSession, deal_id: uuid.UUID, *, lender_id: uuid.UUID, for_update: bool = False
) -> DealerDeal | None:
    """A deal on one of this lender's products that waits (or waited) for its decision."""
    tenant = (col(DealerDeal.lender_id) == lender_id) & col(DealerDeal.decision_status).is_not(None)
    return await _deal(session, deal_id, tenant, for_update=for_update)


async def deal_for_dealer(
    session: AsyncSession, deal_id: uuid.UUID, *, dealer_id: uuid.UUID, for_update: bool = False
) -> DealerDeal | None:
    return await _deal(
        session, deal_id, col(DealerDeal.dealer_id) == dealer_id, for_update=for_update
    )


async def deal_for_buyer(
    session: AsyncSession, deal_id: uuid.UUID, *, buyer_id: uuid.UUID, for_update: bool = False
) -> DealerDeal | None:
    """The buyer's own confirmed (or later) deal; a quote is the dealer's business only."""
    tenant = (col(DealerDeal.buyer_id) == buyer_id) & col(DealerDeal.confirmed_at).is_not(None)
    return await _deal(session, deal_id, tenant, for_update=for_update)


async def deal_of_loan_for_buyer(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID, for_update: bool = False
) -> DealerDeal | None:
    statement = select(DealerDeal).where(
        col(DealerDeal.loan_id) == loan_id, col(DealerDeal.buyer_id) == buyer_id
    )
    if for_update:
        statement = statement.with_for_update()
    result = await session.execute(statement.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def list_for_lender(
    session: AsyncSession,
    lender_id: uuid.UUID,
    *,
    status: DecisionStatus | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[DealerDeal], int]:
    """The lender's deals that wait or waited for a decision; of one status, oldest clock
    first (what is due soonest on top)."""
    conditions: list[ColumnElement[bool]] = [
        col(DealerDeal.lender_id) == lender_id,
        col(DealerDeal.decision_status).is_not(None),
    ]
    if status is not None:
        conditions.append(col(DealerDeal.decision_status) == status.value)
    statement = (
        select(DealerDeal)
        .where(*conditions)
        .order_by(col(DealerDeal.decision_due_at).asc().nulls_last(), col(DealerDeal.id))
    )
    return await paginate(session, statement, limit=limit, offset=offset)


async def list_for_buyer(
    session: AsyncSession, buyer_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[DealerDeal], int]:
    statement = (
        select(DealerDeal)
        .where(col(DealerDeal.buyer_id) == buyer_id, col(DealerDeal.confirmed_at).is_not(None))
        .order_by(col(DealerDeal.created_at).desc(), col(DealerDeal.id))
    )
    return await paginate(session, statement, limit=limit, offset=offset)


# -- the decision's transitions: each a conditional UPDATE of the deal row --------------------


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
        where=[
            col(DealerDeal.lender_id) == lender_id,
            _confirmed(),
            _decision_is(DecisionStatus.decision_required),
        ],
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
        where=[
            col(DealerDeal.lender_id) == lender_id,
            _confirmed(),
            _decision_is(
                DecisionStatus.decision_required,
                DecisionStatus.conditions,
                DecisionStatus.countered,
            ),
        ],
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


# -- stipulations and documents ------------------------------------------------------------------


async def stipulations_of(
    session: AsyncSession, deal_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Stipulation]]:
    if not deal_ids:
        return {}
    rows = await session.execute(
        select(Stipulation)
        .where(col(Stipulation.deal_id).in_(deal_ids))
        .order_by(col(Stipulation.created_at), col(Stipulation.type))
    )
    found: dict[uuid.UUID, list[Stipulation]] = {deal_id: [] for deal_id in deal_ids}
    for row in rows.scalars():
        found[row.deal_id].append(row)
    return found


async def stipulation(
    session: AsyncSession, deal_id: uuid.UUID, stipulation_id: uuid.UUID
) -> Stipulation | None:
    result = await session.execute(
        select(Stipulation).where(
            col(Stipulation.id) == stipulation_id, col(Stipulation.deal_id) == deal_id
        )
    )
    return result.scalar_one_or_none()


async def _update_stipulation(
    session: AsyncSession,
    stipulation_id: uuid.UUID,
    *,
    expected: Sequence[StipulationStatus],
    values: dict[str, Any],
) -> Stipulation | None:
    result = await session.execute(
        update(Stipulation)
        .where(
            col(Stipulation.id) == stipulation_id,
            col(Stipulation.status).in_([s.value for s in expected]),
        )
        .values(**values)
        .returning(Stipulation)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return result.scalar_one_or_none()


async def review_stipulation(
    session: AsyncSession,
    stipulation_id: uuid.UUID,
    *,
    satisfied: bool,
    reason: str | None,
    reviewed_by: str,
    now: datetime,
) -> Stipulation | None:
    """The lender's review: only a submitted document can be rejected; a stipulation can be
    satisfied unless it already is (a pending one seen in person). None otherwise."""
    status = StipulationStatus.satisfied if satisfied else StipulationStatus.rejected
    expected = (
        [StipulationStatus.pending, StipulationStatus.submitted, StipulationStatus.rejected]
        if satisfied
        else [StipulationStatus.submitted]
    )
    return await _update_stipulation(
        session,
        stipulation_id,
        expected=expected,
        values={
            "status": status.value,
            "reason": reason,
            "reviewed_by": reviewed_by,
            "reviewed_at": now,
        },
    )


async def submit_stipulation(
    session: AsyncSession, stipulation_id: uuid.UUID, *, document_id: uuid.UUID
) -> Stipulation | None:
    """A document uploaded for a stipulation waits for review; None once it is satisfied."""
    return await _update_stipulation(
        session,
        stipulation_id,
        expected=[
            StipulationStatus.pending,
            StipulationStatus.rejected,
            StipulationStatus.submitted,
        ],
        values={"status": StipulationStatus.submitted.value, "document_id": document_id},
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


async def documents_of(session: AsyncSession, deal_id: uuid.UUID) -> Sequence[DealDocument]:
    rows = await session.execute(
        select(DealDocument)
        .where(col(DealDocument.deal_id) == deal_id)
        .order_by(col(DealDocument.created_at), col(DealDocument.id))
    )
    return rows.scalars().all()


async def document(
    session: AsyncSession, deal_id: uuid.UUID, document_id: uuid.UUID
) -> DealDocument | None:
    """The document if it belongs to this deal (the caller checked the deal's tenant)."""
    result = await session.execute(
        select(DealDocument).where(
            col(DealDocument.id) == document_id, col(DealDocument.deal_id) == deal_id
        )
    )
    return result.scalar_one_or_none()


async def signature_of(session: AsyncSession, loan_id: uuid.UUID) -> ContractSignature | None:
    result = await session.execute(
        select(ContractSignature).where(col(ContractSignature.loan_id) == loan_id)
    )
    return result.scalar_one_or_none()


# -- what the decision and the contract read -----------------------------------------------------


async def product_version(session: AsyncSession, version_id: uuid.UUID) -> ProductVersion:
    result = await session.execute(
        select(ProductVersion).where(col(ProductVersion.id) == version_id)
    )
    return result.scalar_one()


async def locked_offer(session: AsyncSession, offer_id: uuid.UUID) -> LockedOffer:
    result = await session.execute(select(LockedOffer).where(col(LockedOffer.id) == offer_id))
    return result.scalar_one()


async def organization_names(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(col(Organization.id), col(Organization.name)).where(col(Organization.id).in_(ids))
    )
    return {row[0]: row[1] for row in rows}


async def user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)
