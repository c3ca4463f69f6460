"""Collections' SQL for direct-debit mandates: the loan's live one, and its revocation by the
buyer."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.collections.models import (
    Mandate,
    MandateStatus,
)
from shared.db import utcnow


async def active_mandate(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID | None
) -> Mandate | None:
    """The loan's live mandate; scoped to the buyer unless a job asks (``buyer_id=None``)."""
    query = select(Mandate).where(
        col(Mandate.loan_id) == loan_id, col(Mandate.status) == MandateStatus.active.value
    )
    if buyer_id is not None:
        query = query.where(col(Mandate.buyer_id) == buyer_id)
    return (await session.execute(query)).scalars().one_or_none()


async def revoke_mandate(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID
) -> Mandate | None:
    """``active → revoked`` for the buyer's live mandate on the loan; None if there is none."""
    result = await session.execute(
        update(Mandate)
        .where(
            col(Mandate.loan_id) == loan_id,
            col(Mandate.buyer_id) == buyer_id,
            col(Mandate.status) == MandateStatus.active.value,
        )
        .values(status=MandateStatus.revoked.value, revoked_at=utcnow())
        .returning(Mandate)
        .execution_options(populate_existing=True)
    )
    return result.scalars().one_or_none()
