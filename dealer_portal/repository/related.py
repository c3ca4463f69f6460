"""What the dealer's flows read of other domains' rows: the approval a code names and its
buyer, buyers' names, an organisation's name."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.preapprovals.models import LockedOffer, Preapproval
from shared.identity.models import Organization, User


async def organization_name(session: AsyncSession, organization_id: uuid.UUID) -> str:
    result = await session.execute(
        select(col(Organization.name)).where(col(Organization.id) == organization_id)
    )
    return result.scalar_one_or_none() or ""


@dataclass(frozen=True)
class ApprovalFound:
    preapproval: Preapproval
    buyer: User
    offers: list[dict[str, Any]] | None  # each locked offer's details, best first (if asked)


_APPROVAL_AND_BUYER = (
    select(Preapproval, User)
    .join(User, col(User.id) == col(Preapproval.buyer_id))
    .where(col(Preapproval.code) == bindparam("code"))
)
_OFFERS_DETAILS = (
    select(
        func.coalesce(
            func.jsonb_agg(aggregate_order_by(col(LockedOffer.details), col(LockedOffer.rank))),
            text("'[]'::jsonb"),
            type_=JSONB,
        )
    )
    .where(col(LockedOffer.preapproval_id) == col(Preapproval.id))
    .scalar_subquery()
)
_APPROVAL_BUYER_AND_OFFERS = _APPROVAL_AND_BUYER.add_columns(_OFFERS_DETAILS)


async def approval_and_buyer(
    session: AsyncSession, code: str, *, with_offers: bool = False
) -> ApprovalFound | None:
    """The pre-approval with this code and its buyer (and, ``with_offers``, its locked offers'
    details), in one query: a look-up's one read."""
    statement = _APPROVAL_BUYER_AND_OFFERS if with_offers else _APPROVAL_AND_BUYER
    row = (await session.execute(statement, {"code": code})).first()
    if row is None:
        return None
    return ApprovalFound(row[0], row[1], list(row[2]) if with_offers else None)


async def buyer_names(
    session: AsyncSession, buyer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(col(User.id), col(User.full_name)).where(col(User.id).in_(buyer_ids))
    )
    return {row[0]: row[1] for row in rows}
