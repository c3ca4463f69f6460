"""Collections' SQL for direct-debit mandates: the loan's live one, and its revocation by the
buyer."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.collections.models import (
    Mandate,
    MandateStatus,
)
from shared.db import utcnow


async def active_mandate(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID
) -> Mandate | None:
    """The buyer's live mandate on their own loan (another buyer's is None)."""
    return await _active_mandate(session, loan_id, col(Mandate.buyer_id) == buyer_id)


async def active_mandate_for_platform(session: AsyncSession, loan_id: uuid.UUID) -> Mandate | None:
    """The loan's live mandate, for the platform's automatic debits, never a caller's read."""
    return await _active_mandate(session, loan_id)


async def _active_mandate(
    session: AsyncSession, loan_id: uuid.UUID, *tenant: ColumnElement[bool]
) -> Mandate | None:
    query = select(Mandate).where(
        col(Mandate.loan_id) == loan_id, col(Mandate.status) == MandateStatus.active.value, *tenant
    )
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
