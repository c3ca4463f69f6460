"""Buyers' payment profiles: the Stripe customer and the default card (brand and last 4 only)."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.servicing.models import (
    PaymentProfile,
)
from shared.db import utcnow


async def get_profile(session: AsyncSession, buyer_id: uuid.UUID) -> PaymentProfile | None:
    result = await session.execute(
        select(PaymentProfile)
        .where(col(PaymentProfile.buyer_id) == buyer_id)
        .execution_options(populate_existing=True)
    )
    return result.scalars().one_or_none()


async def add_profile(
    session: AsyncSession, buyer_id: uuid.UUID, stripe_customer_id: str
) -> PaymentProfile:
    """The buyer's payment profile, created with this Stripe customer unless one exists."""
    await session.execute(
        insert(PaymentProfile)
        .values(buyer_id=buyer_id, stripe_customer_id=stripe_customer_id)
        .on_conflict_do_nothing(index_elements=["buyer_id"])
    )
    profile = await get_profile(session, buyer_id)
    assert profile is not None
    return profile


async def set_default_card(
    session: AsyncSession,
    buyer_id: uuid.UUID,
    *,
    payment_method_id: str,
    card_brand: str | None,
    card_last4: str | None,
) -> None:
    """Make this card the buyer's default for repayments (only brand and last 4 are kept)."""
    await session.execute(
        update(PaymentProfile)
        .where(col(PaymentProfile.buyer_id) == buyer_id)
        .values(
            payment_method_id=payment_method_id,
            card_brand=card_brand,
            card_last4=card_last4,
            updated_at=utcnow(),
        )
    )
