"""SQL for a deal's documents and its loan's contract signature (the caller checked the deal's
tenant)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.decisions.models import ContractSignature, DealDocument


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
