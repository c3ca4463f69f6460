"""SQL for applications and bureau reports."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.applications.models import Application, ApplicationStatus, BureauReport


async def get(
    session: AsyncSession,
    application_id: uuid.UUID,
    *,
    buyer_id: uuid.UUID | None = None,
    for_update: bool = False,
) -> Application | None:
    statement = select(Application).where(col(Application.id) == application_id)
    if buyer_id is not None:
        statement = statement.where(col(Application.buyer_id) == buyer_id)
    if for_update:
        statement = statement.with_for_update()
    statement = statement.execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one_or_none()


async def list_for_buyer(
    session: AsyncSession, buyer_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[Application], int]:
    where = col(Application.buyer_id) == buyer_id
    total = (await session.execute(select(func.count()).where(where))).scalar_one()
    rows = await session.execute(
        select(Application)
        .where(where)
        .order_by(col(Application.created_at).desc(), col(Application.id))
        .limit(limit)
        .offset(offset)
    )
    return rows.scalars().all(), total


async def recent_report(
    session: AsyncSession, person_hash: str, since: datetime
) -> BureauReport | None:
    statement = (
        select(BureauReport)
        .where(col(BureauReport.person_hash) == person_hash, col(BureauReport.pulled_at) > since)
        .order_by(col(BureauReport.pulled_at).desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def lock_undecided(
    session: AsyncSession, *, submitted_before: datetime, limit: int
) -> Sequence[Application]:
    """Applications waiting for the bureau, and those still ``submitted`` since before
    ``submitted_before``, that nobody else is retrying right now (SKIP LOCKED)."""
    statement = (
        select(Application)
        .where(
            or_(
                col(Application.status) == ApplicationStatus.pending_bureau,
                and_(
                    col(Application.status) == ApplicationStatus.submitted,
                    col(Application.created_at) < submitted_before,
                ),
            )
        )
        .order_by(col(Application.created_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(statement)).scalars().all()
