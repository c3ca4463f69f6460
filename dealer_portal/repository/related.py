"""What the dealer's flows read of other domains' rows: the approval a code names and its
buyer, buyers' names, an organisation's name."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.preapprovals.models import Preapproval
from shared.identity.models import Organization, User


async def organization_name(session: AsyncSession, organization_id: uuid.UUID) -> str:
    result = await session.execute(
        select(col(Organization.name)).where(col(Organization.id) == organization_id)
    )
    return result.scalar_one_or_none() or ""


async def approval_and_buyer(session: AsyncSession, code: str) -> tuple[Preapproval, User] | None:
    """The pre-approval with this code and its buyer, in one query (a look-up's one read)."""
    row = (
        await session.execute(
            select(Preapproval, User)
            .join(User, col(User.id) == col(Preapproval.buyer_id))
            .where(col(Preapproval.code) == code)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def buyer_names(
    session: AsyncSession, buyer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(col(User.id), col(User.full_name)).where(col(User.id).in_(buyer_ids))
    )
    return {row[0]: row[1] for row in rows}
