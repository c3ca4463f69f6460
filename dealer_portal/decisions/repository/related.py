"""What the decision and the contract read of other domains' rows: the deal's product version
and locked offer, a user (organisations' names come from ``servicing.repository``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.preapprovals.models import LockedOffer
from marketplace.products.models import ProductVersion
from shared.identity.models import User


async def product_version(session: AsyncSession, version_id: uuid.UUID) -> ProductVersion:
    result = await session.execute(
        select(ProductVersion).where(col(ProductVersion.id) == version_id)
    )
    return result.scalar_one()


async def locked_offer(session: AsyncSession, offer_id: uuid.UUID) -> LockedOffer:
    result = await session.execute(select(LockedOffer).where(col(LockedOffer.id) == offer_id))
    return result.scalar_one()


async def user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)
