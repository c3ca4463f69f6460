"""What the decision and the contract read of other domains' rows: the deal's product version
and locked offer, organisations' names, a user."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.preapprovals.models import LockedOffer
from marketplace.products.models import ProductVersion
from shared.identity.models import Organization, User


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
