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

from sqlalchemy import ColumnElement, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal import repository as deal_repository
from dealer_portal.decisions.models import (
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
    total = (
        await session.execute(select(func.count()).select_from(DealerDeal).where(*conditions))
    ).scalar_one()
    rows = await session.execute(
        select(DealerDeal)
        .where(*conditions)
        .order_by(col(DealerDeal.decision_due_at).asc().nulls_last(), col(DealerDeal.id))
        .limit(limit)
        .offset(offset)
    )
    return rows.scalars().all(), int(total)


async def list_for_buyer(
    session: AsyncSession, buyer_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[DealerDeal], int]:
    conditions = [col(DealerDeal.buyer_id) == buyer_id, col(DealerDeal.confirmed_at).is_not(None)]
    total = (
        await session.execute(select(func.count()).select_from(DealerDeal).where(*conditions))
    ).scalar_one()
    rows = await session.execute(
        select(DealerDeal)
        .where(*conditions)
        .order_by(col(DealerDeal.created_at).desc(), col(DealerDeal.id))
        .limit(limit)
        .offset(offset)
    )
    return rows.scalars().all(), int(total)


# -- by deal id alone, after the caller checked the tenant ---------------------------------------


update_deal = deal_repository.update_where  # one conditional update for every transition


def decision_is(*statuses: DecisionStatus) -> ColumnElement[bool]:
    return col(DealerDeal.decision_status).in_([s.value for s in statuses])


def deal_is(*statuses: DealStatus) -> ColumnElement[bool]:
    return col(DealerDeal.status).in_([s.value for s in statuses])


async def hand_over_when_ready(
    session: AsyncSession, deal_id: uuid.UUID, now: datetime
) -> DealerDeal | None:
    """``confirmed → handed_over`` once the lender approved, the buyer signed the contract of
    the deal's current loan and the down payment is paid; None while any is missing (or when
    someone else already handed it over). Every caller first changed one of these conditions on
    the deal row itself, so racing callers queue on that row and the last one sees them all."""
    return await update_deal(
        session,
        deal_id,
        where=[
            deal_is(DealStatus.confirmed),
            decision_is(DecisionStatus.approved),
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


async def update_stipulation(
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


async def approve_when_stipulations_satisfied(
    session: AsyncSession, deal_id: uuid.UUID, now: datetime
) -> DealerDeal | None:
    """``conditions → approved`` when no stipulation of the deal is left unsatisfied."""
    open_stipulation = exists().where(
        col(Stipulation.deal_id) == deal_id,
        col(Stipulation.status) != StipulationStatus.satisfied.value,
    )
    return await update_deal(
        session,
        deal_id,
        where=[decision_is(DecisionStatus.conditions), ~open_stipulation],
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
