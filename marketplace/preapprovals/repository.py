"""SQL for pre-approvals, their locked offers and dealer look-ups."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable
from sqlmodel import col

from marketplace.applications.models import Application, BureauReport
from marketplace.preapprovals.models import (
    LockedOffer,
    Preapproval,
    PreapprovalLookup,
    PreapprovalStatus,
)
from marketplace.scorecards.models import PublishedScorecard
from shared.db import table_of
from shared.pagination import paginate
from shared.writes import Write, rows_insert


async def get(
    session: AsyncSession, preapproval_id: uuid.UUID, *, buyer_id: uuid.UUID
) -> Preapproval | None:
    """The buyer's own pre-approval (another buyer's is None)."""
    statement = select(Preapproval).where(
        col(Preapproval.id) == preapproval_id, col(Preapproval.buyer_id) == buyer_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def get_for_platform(session: AsyncSession, preapproval_id: uuid.UUID) -> Preapproval | None:
    """Any pre-approval, for the platform's own steps (why a consume of one the dealer's deal
    names failed), never a caller's read."""
    statement = select(Preapproval).where(col(Preapproval.id) == preapproval_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def by_code(session: AsyncSession, code: str) -> Preapproval | None:
    statement = select(Preapproval).where(col(Preapproval.code) == code)
    return (await session.execute(statement)).scalar_one_or_none()


# Built once (the statements of a quote and an application's answer): building a joined
# statement and its cache key again costs ~0.15 ms of CPU per request.
_WITH_OFFERS_BY_APPLICATIONS = (
    select(Preapproval, LockedOffer)
    .outerjoin(LockedOffer, col(LockedOffer.preapproval_id) == col(Preapproval.id))
    .where(col(Preapproval.application_id).in_(bindparam("application_ids", expanding=True)))
    .order_by(col(Preapproval.id), col(LockedOffer.rank))
)


async def with_offers_by_applications(
    session: AsyncSession, application_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[Preapproval, list[LockedOffer]]]:
    """The pre-approval of each of these applications that has one, with its locked offers
    by rank, in one query."""
    rows = await session.execute(
        _WITH_OFFERS_BY_APPLICATIONS, {"application_ids": list(application_ids)}
    )
    found: dict[uuid.UUID, tuple[Preapproval, list[LockedOffer]]] = {}
    for preapproval, offer in rows.all():
        _, offers = found.setdefault(preapproval.application_id, (preapproval, []))
        if offer is not None:
            offers.append(offer)
    return found


async def list_for_buyer(
    session: AsyncSession, buyer_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[Preapproval], int]:
    statement = (
        select(Preapproval)
        .where(col(Preapproval.buyer_id) == buyer_id)
        .order_by(col(Preapproval.created_at).desc(), col(Preapproval.id))
    )
    return await paginate(session, statement, limit=limit, offset=offset)


async def active_for_person(
    session: AsyncSession, person_hash: str, now: datetime
) -> Preapproval | None:
    statement = select(Preapproval).where(
        col(Preapproval.person_hash) == person_hash,
        col(Preapproval.status) == PreapprovalStatus.active,
        col(Preapproval.expires_at) > now,
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def expire_stale(
    session: AsyncSession, now: datetime, *, person_hash: str | None = None
) -> Sequence[uuid.UUID]:
    """Mark every active approval whose validity is over as expired; their ids."""
    statement = (
        update(Preapproval)
        .where(
            col(Preapproval.status) == PreapprovalStatus.active,
            col(Preapproval.expires_at) <= now,
        )
        .values(status=PreapprovalStatus.expired, status_changed_at=now)
        .returning(col(Preapproval.id))
    )
    if person_hash is not None:
        statement = statement.where(col(Preapproval.person_hash) == person_hash)
    return (await session.execute(statement)).scalars().all()


def _transition(*, require_unexpired: bool) -> Executable:
    conditions = [
        col(Preapproval.id) == bindparam("preapproval_id"),
        col(Preapproval.status) == bindparam("from_status"),
    ]
    if require_unexpired:
        conditions.append(col(Preapproval.expires_at) > bindparam("now"))
    return (
        update(Preapproval)
        .where(*conditions)
        .values(status=bindparam("to_status"), status_changed_at=bindparam("now"))
        .returning(Preapproval)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


# Built once, bound per call: building the UPDATE was most of a transition's CPU.
_TRANSITION = {unexpired: _transition(require_unexpired=unexpired) for unexpired in (False, True)}


async def transition(
    session: AsyncSession,
    preapproval_id: uuid.UUID,
    *,
    from_status: PreapprovalStatus,
    to_status: PreapprovalStatus,
    now: datetime,
    require_unexpired: bool,
) -> Preapproval | None:
    """Move one approval between statuses if (and only if) it is in ``from_status`` now.

    A single conditional UPDATE: of two racing callers, exactly one gets the row back.
    """
    parameters = {
        "preapproval_id": preapproval_id,
        "from_status": from_status,
        "to_status": to_status,
        "now": now,
    }
    result = await session.execute(_TRANSITION[require_unexpired], parameters)
    return result.scalar_one_or_none()


# An approval's offers go out as one INSERT of all their rows, built once per count (an ORM
# entity per offer, 20 to 60 of them, cost an application more CPU than writing them).
_OFFER_COLUMNS = tuple(column.key for column in table_of(LockedOffer).columns)


def offers_insert(offers: Sequence[dict[str, Any]]) -> Write:
    """These offers (each a ``preapproval_offers`` row's values; at least one) locked to their
    approval, as an INSERT for the caller to send within a statement."""
    return rows_insert(table_of(LockedOffer), _OFFER_COLUMNS, offers, prefix="offer")


async def offers(session: AsyncSession, preapproval_id: uuid.UUID) -> Sequence[LockedOffer]:
    rows = await session.execute(
        select(LockedOffer)
        .where(col(LockedOffer.preapproval_id) == preapproval_id)
        .order_by(col(LockedOffer.rank))
    )
    return rows.scalars().all()


@dataclass(frozen=True)
class Grading:
    """What grading a car on an approval reads: its application, the bureau report that
    decided it and the fingerprint of the card that graded it (None where there is none)."""

    application: Application | None
    report: BureauReport | None
    scorecard_sha256: str | None


_OFFER_AND_GRADING = (
    select(LockedOffer, Application, BureauReport, col(PublishedScorecard.sha256))
    .select_from(LockedOffer)
    .outerjoin(Application, col(Application.id) == bindparam("application_id"))
    .outerjoin(BureauReport, col(BureauReport.id) == col(Application.bureau_report_id))
    .outerjoin(
        PublishedScorecard, col(PublishedScorecard.version) == col(Application.scorecard_version)
    )
    .where(
        col(LockedOffer.id) == bindparam("offer_id"),
        col(LockedOffer.preapproval_id) == bindparam("preapproval_id"),
    )
)


async def offer_and_grading(
    session: AsyncSession, preapproval: Preapproval, offer_id: uuid.UUID
) -> tuple[LockedOffer, Grading] | None:
    """The approval's locked offer ``offer_id`` with what grading a car on the approval needs,
    in one query (a dealer's quote reads nothing else of the approval); None when the approval
    has no such offer."""
    parameters = {
        "offer_id": offer_id,
        "preapproval_id": preapproval.id,
        "application_id": preapproval.application_id,
    }
    row = (await session.execute(_OFFER_AND_GRADING, parameters)).first()
    if row is None:
        return None
    return row[0], Grading(row[1], row[2], row[3])


async def offers_for(
    session: AsyncSession, preapproval_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[LockedOffer]]:
    rows = await session.execute(
        select(LockedOffer)
        .where(col(LockedOffer.preapproval_id).in_(preapproval_ids))
        .order_by(col(LockedOffer.rank))
    )
    grouped: dict[uuid.UUID, list[LockedOffer]] = {pid: [] for pid in preapproval_ids}
    for offer in rows.scalars():
        grouped[offer.preapproval_id].append(offer)
    return grouped


_INSERT_LOOKUP = insert(table_of(PreapprovalLookup)).values(
    id=bindparam("lookup_id"),
    preapproval_id=bindparam("lookup_preapproval_id"),
    dealer_id=bindparam("lookup_dealer_id"),
)


def lookup_insert(preapproval_id: uuid.UUID, dealer_id: uuid.UUID) -> Write:
    """The row noting a dealer's look-up, as an INSERT for the caller to send (with others)."""
    return Write(
        _INSERT_LOOKUP,
        {
            "lookup_id": uuid.uuid4(),
            "lookup_preapproval_id": preapproval_id,
            "lookup_dealer_id": dealer_id,
        },
    )
