"""SQL of the scorecard registry. Role changes are conditional UPDATEs; the partial unique
indexes make a second champion (or challenger) impossible however the updates interleave."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.scorecards.models import PublishedScorecard, ScorecardRole
from shared.pagination import paginate


async def get(session: AsyncSession, version: str) -> PublishedScorecard | None:
    return await session.get(PublishedScorecard, version)


# Built once: its roles are fixed, so every call sends the same statement (building it per call
# cost more CPU than sending it).
_IN_SERVICE = select(
    col(PublishedScorecard.role),
    col(PublishedScorecard.version),
    col(PublishedScorecard.sha256),
).where(
    col(PublishedScorecard.role).in_([ScorecardRole.champion.value, ScorecardRole.challenger.value])
)


async def in_service(session: AsyncSession) -> dict[ScorecardRole, tuple[str, str]]:
    """``(version, sha256)`` of the champion and of the challenger, where there are any."""
    rows = await session.execute(_IN_SERVICE)
    return {ScorecardRole(role): (version, sha) for role, version, sha in rows.all()}


async def fingerprint(session: AsyncSession, version: str) -> str | None:
    """The sha256 of the card published as ``version``, or None."""
    rows = await session.execute(
        select(col(PublishedScorecard.sha256)).where(col(PublishedScorecard.version) == version)
    )
    return rows.scalar_one_or_none()


async def card_json(session: AsyncSession, version: str) -> dict[str, object] | None:
    rows = await session.execute(
        select(col(PublishedScorecard.card)).where(col(PublishedScorecard.version) == version)
    )
    return rows.scalar_one_or_none()


async def list_page(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[Sequence[PublishedScorecard], int]:
    statement = select(PublishedScorecard).order_by(
        col(PublishedScorecard.published_at).desc(), col(PublishedScorecard.version)
    )
    return await paginate(session, statement, limit=limit, offset=offset)


async def step_down(
    session: AsyncSession, role: ScorecardRole, *, except_version: str, now: datetime
) -> str | None:
    """Make the card holding ``role`` (other than ``except_version``) a candidate again; its
    version, or None when no other card held the role."""
    result = await session.execute(
        update(PublishedScorecard)
        .where(
            col(PublishedScorecard.role) == role.value,
            col(PublishedScorecard.version) != except_version,
        )
        .values(role=ScorecardRole.candidate.value, role_changed_at=now)
        .returning(col(PublishedScorecard.version))
    )
    return result.scalar_one_or_none()


async def lock(session: AsyncSession, version: str) -> PublishedScorecard | None:
    """The card of ``version``, its row locked until the transaction ends."""
    rows = await session.execute(
        select(PublishedScorecard)
        .where(col(PublishedScorecard.version) == version)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return rows.scalar_one_or_none()


async def change_role(
    session: AsyncSession,
    version: str,
    *,
    expected: ScorecardRole,
    new: ScorecardRole,
    now: datetime,
) -> bool:
    """Move ``version`` from ``expected`` to ``new``; False when it no longer held ``expected``.
    Raises IntegrityError when another card already holds ``new`` (a racing admin won)."""
    result = await session.execute(
        update(PublishedScorecard)
        .where(
            col(PublishedScorecard.version) == version,
            col(PublishedScorecard.role) == expected.value,
        )
        .values(role=new.value, role_changed_at=now)
        .returning(col(PublishedScorecard.version))
    )
    return result.scalar_one_or_none() is not None
