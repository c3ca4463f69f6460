"""SQL for applications and bureau reports."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.applications.models import (
    Application,
    ApplicationStatus,
    BureauReport,
    Consent,
    ConsentKind,
)
from marketplace.preapprovals.models import Preapproval, PreapprovalStatus
from shared.identity.models import Organization, OrganizationKind, OrganizationStatus
from shared.pagination import paginate


async def get(
    session: AsyncSession, application_id: uuid.UUID, *, buyer_id: uuid.UUID
) -> Application | None:
    """The buyer's own application (another buyer's is None)."""
    return await _one(session, application_id, col(Application.buyer_id) == buyer_id)


async def get_for_platform(
    session: AsyncSession, application_id: uuid.UUID, *, for_update: bool = False
) -> Application | None:
    """Any application, for the platform's own steps (deciding one already read as its
    buyer's, grading a car on a pre-approval's application), never a caller's read."""
    return await _one(session, application_id, for_update=for_update)


async def _one(
    session: AsyncSession, application_id: uuid.UUID, *tenant: Any, for_update: bool = False
) -> Application | None:
    statement = select(Application).where(col(Application.id) == application_id, *tenant)
    if for_update:
        statement = statement.with_for_update()
    statement = statement.execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one_or_none()


async def list_for_buyer(
    session: AsyncSession, buyer_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[Application], int]:
    statement = (
        select(Application)
        .where(col(Application.buyer_id) == buyer_id)
        .order_by(col(Application.created_at).desc(), col(Application.id))
    )
    return await paginate(session, statement, limit=limit, offset=offset)


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


async def person_standing(
    session: AsyncSession, person_hash: str, now: datetime, *, reports_since: datetime
) -> tuple[bool, uuid.UUID | None]:
    """For a new application, in one statement: whether the person holds an active approval
    (theirs past its validity are marked expired on the way, freeing the one-active slot) and
    their latest bureau report pulled since ``reports_since``, if any."""
    stale = (
        update(Preapproval)
        .where(
            col(Preapproval.person_hash) == person_hash,
            col(Preapproval.status) == PreapprovalStatus.active,
            col(Preapproval.expires_at) <= now,
        )
        .values(status=PreapprovalStatus.expired, status_changed_at=now)
        .returning(col(Preapproval.id))
        .cte("expired")
    )
    active = (
        select(col(Preapproval.id))
        .where(
            col(Preapproval.person_hash) == person_hash,
            col(Preapproval.status) == PreapprovalStatus.active,
            col(Preapproval.expires_at) > now,
        )
        .exists()
    )
    report = (
        select(col(BureauReport.id))
        .where(
            col(BureauReport.person_hash) == person_hash,
            col(BureauReport.pulled_at) > reports_since,
        )
        .order_by(col(BureauReport.pulled_at).desc())
        .limit(1)
        .scalar_subquery()
    )
    row = (await session.execute(select(active, report).add_cte(stale))).one()
    return bool(row[0]), row[1]


async def report(session: AsyncSession, report_id: uuid.UUID) -> BureauReport | None:
    return await session.get(BureauReport, report_id)


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


# -- consents ------------------------------------------------------------------------------------


async def active_lender_names(session: AsyncSession) -> list[dict[str, str]]:
    """Every active lender, ``{id, name}``: who a decision made now may be shared with."""
    rows = await session.execute(
        select(col(Organization.id), col(Organization.name))
        .where(
            col(Organization.kind) == OrganizationKind.lender,
            col(Organization.status) == OrganizationStatus.active,
        )
        .order_by(col(Organization.name), col(Organization.id))
    )
    return [{"id": str(row[0]), "name": row[1]} for row in rows]


async def consents_of(
    session: AsyncSession, user_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[Consent], int]:
    statement = (
        select(Consent)
        .where(col(Consent.user_id) == user_id)
        .order_by(col(Consent.granted_at).desc(), col(Consent.kind), col(Consent.id))
    )
    return await paginate(session, statement, limit=limit, offset=offset)


async def consent_of(
    session: AsyncSession, consent_id: uuid.UUID, *, user_id: uuid.UUID
) -> Consent | None:
    """The user's own consent (another user's is None)."""
    statement = select(Consent).where(
        col(Consent.id) == consent_id, col(Consent.user_id) == user_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def withdraw_consent(session: AsyncSession, consent_id: uuid.UUID, now: datetime) -> bool:
    """Withdraw a consent still in force; False if it was withdrawn already."""
    result = await session.execute(
        update(Consent)
        .where(col(Consent.id) == consent_id, col(Consent.withdrawn_at).is_(None))
        .values(withdrawn_at=now)
        .returning(col(Consent.id))
    )
    return result.scalar_one_or_none() is not None


async def sharing_consent_in_force(
    session: AsyncSession, application_id: uuid.UUID
) -> Consent | None:
    """The application's consent to share its decision with lenders, unless withdrawn."""
    statement = select(Consent).where(
        col(Consent.application_id) == application_id,
        col(Consent.kind) == ConsentKind.lender_sharing,
        col(Consent.withdrawn_at).is_(None),
    )
    return (await session.execute(statement)).scalar_one_or_none()
