"""The decision flow's reads of deals, each scoped by its tenant as a required argument
(``lender_id``, ``dealer_id`` or ``buyer_id``): the one deal every step starts from, the
lender's queue and the buyer's list."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.decisions.models import DecisionStatus
from dealer_portal.models import DealerDeal
from shared.pagination import paginate


async def _deal(
    session: AsyncSession, *where: ColumnElement[bool], for_update: bool
) -> DealerDeal | None:
    statement = select(DealerDeal).where(*where)
    if for_update:
        statement = statement.with_for_update()
    result = await session.execute(statement.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def deal_for_lender(
    session: AsyncSession, deal_id: uuid.UUID, *, lender_id: uuid.UUID, for_update: bool = False
) -> DealerDeal | None:
    """A deal on one of this lender's products that waits (or waited) for its decision."""
    return await _deal(
        session,
        col(DealerDeal.id) == deal_id,
        col(DealerDeal.lender_id) == lender_id,
        col(DealerDeal.decision_status).is_not(None),
        for_update=for_update,
    )


async def deal_for_dealer(
    session: AsyncSession, deal_id: uuid.UUID, *, dealer_id: uuid.UUID, for_update: bool = False
) -> DealerDeal | None:
    return await _deal(
        session,
        col(DealerDeal.id) == deal_id,
        col(DealerDeal.dealer_id) == dealer_id,
        for_update=for_update,
    )


async def deal_for_buyer(
    session: AsyncSession, deal_id: uuid.UUID, *, buyer_id: uuid.UUID, for_update: bool = False
) -> DealerDeal | None:
    """The buyer's own confirmed (or later) deal; a quote is the dealer's business only."""
    return await _deal(
        session,
        col(DealerDeal.id) == deal_id,
        col(DealerDeal.buyer_id) == buyer_id,
        col(DealerDeal.confirmed_at).is_not(None),
        for_update=for_update,
    )


async def deal_of_loan_for_buyer(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID, for_update: bool = False
) -> DealerDeal | None:
    return await _deal(
        session,
        col(DealerDeal.loan_id) == loan_id,
        col(DealerDeal.buyer_id) == buyer_id,
        for_update=for_update,
    )


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
