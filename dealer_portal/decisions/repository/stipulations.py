"""SQL for stipulations: a deal's list, one of them, and their changes of state (a document
submitted, the lender's review), each one conditional UPDATE … RETURNING. The caller checked
the deal's tenant; a stipulation is found only through its deal."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.decisions.models import Stipulation, StipulationStatus


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


async def _update_stipulation(
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


async def review_stipulation(
    session: AsyncSession,
    stipulation_id: uuid.UUID,
    *,
    satisfied: bool,
    reason: str | None,
    reviewed_by: str,
    now: datetime,
) -> Stipulation | None:
    """The lender's review: only a submitted document can be rejected; a stipulation can be
    satisfied unless it already is (a pending one seen in person). None otherwise."""
    status = StipulationStatus.satisfied if satisfied else StipulationStatus.rejected
    expected = (
        [StipulationStatus.pending, StipulationStatus.submitted, StipulationStatus.rejected]
        if satisfied
        else [StipulationStatus.submitted]
    )
    return await _update_stipulation(
        session,
        stipulation_id,
        expected=expected,
        values={
            "status": status.value,
            "reason": reason,
            "reviewed_by": reviewed_by,
            "reviewed_at": now,
        },
    )


async def submit_stipulation(
    session: AsyncSession, stipulation_id: uuid.UUID, *, document_id: uuid.UUID
) -> Stipulation | None:
    """A document uploaded for a stipulation waits for review; None once it is satisfied."""
    return await _update_stipulation(
        session,
        stipulation_id,
        expected=[
            StipulationStatus.pending,
            StipulationStatus.rejected,
            StipulationStatus.submitted,
        ],
        values={"status": StipulationStatus.submitted.value, "document_id": document_id},
    )
