"""SQL for applications and bureau reports."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from marketplace.applications.models import (
    Application,
    ApplicationStatus,
    BureauReport,
    Consent,
    ConsentKind,
)
from marketplace.preapprovals.models import Preapproval, PreapprovalStatus
from shared.db import table_of
from shared.identity.models import Organization, OrganizationKind, OrganizationStatus, User
from shared.pagination import paginate
from shared.writes import Write, adopt, insert_of, insert_rows, with_writes


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


# Built once: the application locked for its decision, with the report the bureau just gave
# inserted by the same statement (a CTE), one round trip where a locked read and a flush took two.
_LOCK_FOR_DECISION = (
    select(Application)
    .where(col(Application.id) == bindparam("b_application_id"))
    .with_for_update()
    .add_cte(
        insert(table_of(BureauReport))
        .values(
            id=bindparam("r_id"),
            person_hash=bindparam("r_person_hash"),
            source=bindparam("r_source"),
            facts=bindparam("r_facts"),
            pulled_at=bindparam("r_pulled_at"),
        )
        .cte("pulled_report")
    )
    .execution_options(populate_existing=True)
)


async def lock_recording_report(
    session: AsyncSession, application_id: uuid.UUID, report: BureauReport
) -> Application | None:
    """Lock the application for its decision and store ``report`` (a new pull) with it. The
    report is kept even when someone decided the application meanwhile: the pull was made, and
    the next application of the person within 30 days reuses it."""
    parameters = {
        "b_application_id": application_id,
        "r_id": report.id,
        "r_person_hash": report.person_hash,
        "r_source": report.source,
        "r_facts": report.facts,
        "r_pulled_at": report.pulled_at,
    }
    return (await session.execute(_LOCK_FOR_DECISION, parameters)).scalar_one_or_none()


async def _one(
    session: AsyncSession, application_id: uuid.UUID, *tenant: Any, for_update: bool = False
) -> Application | None:
    statement = select(Application).where(col(Application.id) == application_id, *tenant)
    if for_update:
        statement = statement.with_for_update()
    statement = statement.execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one_or_none()


# Built once, not on every application (building it and its cache key took ~0.6 ms of CPU).
_OTHER_ACCOUNT = aliased(User)
_ACCOUNT_AND_HOLDER = (
    select(
        User,
        select(col(_OTHER_ACCOUNT.id))
        .where(
            col(_OTHER_ACCOUNT.person_hash) == bindparam("person_hash"),
            col(_OTHER_ACCOUNT.id) != bindparam("buyer_id"),
        )
        .exists(),
    )
    .where(col(User.id) == bindparam("buyer_id"))
    .execution_options(populate_existing=True)
)


async def account_and_holder(
    session: AsyncSession, buyer_id: uuid.UUID, person_hash: str
) -> tuple[User | None, bool]:
    """The applying account (read afresh), and whether another account is bound to the person
    ``person_hash`` already, in one query."""
    parameters = {"buyer_id": buyer_id, "person_hash": person_hash}
    row = (await session.execute(_ACCOUNT_AND_HOLDER, parameters)).first()
    return (None, False) if row is None else (row[0], bool(row[1]))


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


# Built once, bound per application: building it (an UPDATE as a CTE, an EXISTS and a scalar
# subquery) cost more CPU than sending it. Its parameters are named after no preapprovals
# column: the CTE's UPDATE would take such a key as one more column to SET.
_EXPIRED = (
    update(Preapproval)
    .where(
        col(Preapproval.person_hash) == bindparam("b_person_hash"),
        col(Preapproval.status) == PreapprovalStatus.active,
        col(Preapproval.expires_at) <= bindparam("b_now"),
    )
    .values(status=PreapprovalStatus.expired, status_changed_at=bindparam("b_now"))
    .returning(col(Preapproval.id))
    .cte("expired")
)
_PERSON_STANDING = select(
    select(col(Preapproval.id))
    .where(
        col(Preapproval.person_hash) == bindparam("b_person_hash"),
        col(Preapproval.status) == PreapprovalStatus.active,
        col(Preapproval.expires_at) > bindparam("b_now"),
    )
    .exists(),
    select(col(BureauReport.id))
    .where(
        col(BureauReport.person_hash) == bindparam("b_person_hash"),
        col(BureauReport.pulled_at) > bindparam("b_reports_since"),
    )
    .order_by(col(BureauReport.pulled_at).desc())
    .limit(1)
    .scalar_subquery(),
).add_cte(_EXPIRED)


async def person_standing(
    session: AsyncSession, person_hash: str, now: datetime, *, reports_since: datetime
) -> tuple[bool, uuid.UUID | None]:
    """For a new application, in one statement: whether the person holds an active approval
    (theirs past its validity are marked expired on the way, freeing the one-active slot) and
    their latest bureau report pulled since ``reports_since``, if any."""
    parameters = {"b_person_hash": person_hash, "b_now": now, "b_reports_since": reports_since}
    row = (await session.execute(_PERSON_STANDING, parameters)).one()
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


# Both consents of an application in one statement, the sharing one naming every lender active
# now (as JSON ``[{id, name}]`` by name) read by the same statement; built once.
_RECIPIENTS = (
    select(
        func.coalesce(
            func.jsonb_agg(
                aggregate_order_by(
                    func.jsonb_build_object(
                        "id", cast(col(Organization.id), String), "name", col(Organization.name)
                    ),
                    col(Organization.name),
                    col(Organization.id),
                )
            ),
            literal_column("'[]'::jsonb"),
        )
    )
    .where(
        col(Organization.kind) == OrganizationKind.lender.value,
        col(Organization.status) == OrganizationStatus.active.value,
    )
    .scalar_subquery()
)


_CONSENTS = table_of(Consent)


def _consent(kind: str, recipients: Any) -> dict[str, Any]:
    def value(column: str, name: str) -> Any:
        return bindparam(name, type_=_CONSENTS.c[column].type)

    return {
        "id": value("id", f"{kind}_id"),
        "user_id": value("user_id", "c_user_id"),
        "application_id": value("application_id", "c_application_id"),
        "kind": value("kind", f"{kind}_kind"),
        "version": value("version", f"{kind}_version"),
        "text": value("text", f"{kind}_text"),
        "recipients": recipients,
        "recorded_by": value("recorded_by", "c_recorded_by"),
        "granted_at": value("granted_at", "c_granted_at"),
    }


_INSERT_CONSENTS = insert_rows(
    _CONSENTS,
    [_consent("pull", literal_column("'[]'::jsonb")), _consent("sharing", _RECIPIENTS)],
)


async def insert_application(
    session: AsyncSession,
    application: Application,
    *,
    recorded_by: str,
    granted_at: datetime,
    bureau_pull: tuple[str, dict[str, str]],
    lender_sharing: tuple[str, dict[str, str]],
    along: Sequence[Write] = (),
) -> None:
    """Insert the new application with its two consents, each ``(version, text)`` — the
    bureau-pull authorisation and the consent to share the decision with every lender active
    now — and ``along``, in one statement; the application then belongs to the session."""
    statement, parameters = with_writes(
        _INSERT_CONSENTS,
        {
            "c_user_id": application.buyer_id,
            "c_application_id": application.id,
            "c_recorded_by": recorded_by,
            "c_granted_at": granted_at,
            "pull_id": uuid.uuid4(),
            "pull_kind": ConsentKind.bureau_pull.value,
            "pull_version": bureau_pull[0],
            "pull_text": bureau_pull[1],
            "sharing_id": uuid.uuid4(),
            "sharing_kind": ConsentKind.lender_sharing.value,
            "sharing_version": lender_sharing[0],
            "sharing_text": lender_sharing[1],
        },
        [insert_of(application, prefix="app"), *along],
    )
    await session.execute(statement, parameters)
    adopt(session, application)


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
