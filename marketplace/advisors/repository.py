"""SQL for advisor assignments, messages and diversion alerts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.advisors.models import AdvisorAssignment, AdvisorLoad, HandledAlert, Message
from shared.identity.models import User, UserKind
from shared.pagination import paginate


async def advisor_of(session: AsyncSession, buyer_id: uuid.UUID) -> uuid.UUID | None:
    statement = select(col(AdvisorAssignment.advisor_id)).where(
        col(AdvisorAssignment.buyer_id) == buyer_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


def _advisor_or_candidate() -> Select[uuid.UUID | None, uuid.UUID | None]:
    current = (
        select(col(AdvisorAssignment.advisor_id))
        .where(col(AdvisorAssignment.buyer_id) == bindparam("buyer_id"))
        .scalar_subquery()
    )
    load = func.coalesce(col(AdvisorLoad.buyers), 0)
    least_loaded = (
        select(col(User.id))
        .outerjoin(AdvisorLoad, col(AdvisorLoad.advisor_id) == col(User.id))
        .where(col(User.kind) == UserKind.advisor, col(User.is_active).is_(True))
        .order_by(load, col(User.created_at), col(User.id))
        .limit(1)
    )
    free = least_loaded.with_for_update(of=User, skip_locked=True).scalar_subquery()
    candidate = case(
        (current.is_(None), func.coalesce(free, least_loaded.scalar_subquery())), else_=None
    )
    return select(current, candidate)


_ADVISOR_OR_CANDIDATE = _advisor_or_candidate()  # built once, not on every approval


async def advisor_or_candidate(
    session: AsyncSession, buyer_id: uuid.UUID
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The buyer's advisor, or when there is none the active advisor with the fewest buyers
    (the earliest created on a tie) to assign — in one statement, which chooses only when the
    buyer has no advisor (PostgreSQL runs an uncorrelated subquery when its value is first
    needed).

    Chosen with ``FOR UPDATE … SKIP LOCKED``: approvals deciding at the same moment take
    different advisors instead of all counting onto one (and queueing on its load row); when
    every advisor is taken by a concurrent approval, the least loaded by the committed counts
    is chosen unlocked (a burst larger than the team evens out over the next approvals).
    """
    row = (await session.execute(_ADVISOR_OR_CANDIDATE, {"buyer_id": buyer_id})).one()
    return row[0], row[1]


async def assign(session: AsyncSession, buyer_id: uuid.UUID, advisor_id: uuid.UUID) -> bool:
    """Assign unless the buyer already has an advisor (first assignment wins), counting the
    buyer on the advisor's load in the same statement; True if assigned."""
    assigned = (
        insert(AdvisorAssignment)
        .values(buyer_id=buyer_id, advisor_id=advisor_id)
        .on_conflict_do_nothing(index_elements=["buyer_id"])
        .returning(col(AdvisorAssignment.advisor_id))
        .cte("assigned")
    )
    counted = (
        insert(AdvisorLoad)
        .from_select(["advisor_id", "buyers"], select(assigned.c.advisor_id, literal(1)))
        .on_conflict_do_update(
            index_elements=["advisor_id"], set_={"buyers": col(AdvisorLoad.buyers) + 1}
        )
        .returning(col(AdvisorLoad.advisor_id))
        .add_cte(assigned)
    )
    return (await session.execute(counted)).scalar_one_or_none() is not None


async def unassigned_approved_buyers(session: AsyncSession) -> Sequence[uuid.UUID]:
    """Buyers with an approval but no advisor yet (approved before any advisor existed)."""
    rows = await session.execute(
        text(
            "SELECT DISTINCT p.buyer_id FROM preapprovals p "
            "LEFT JOIN advisor_assignments a ON a.buyer_id = p.buyer_id "
            "WHERE a.buyer_id IS NULL"
        )
    )
    return [row[0] for row in rows]


async def buyers_of(
    session: AsyncSession, advisor_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """The advisor's buyers with their latest approval's status, newest assignment first."""
    total = (
        await session.execute(
            select(func.count()).where(col(AdvisorAssignment.advisor_id) == advisor_id)
        )
    ).scalar_one()
    rows = await session.execute(
        text(
            "SELECT u.id AS buyer_id, u.full_name, a.assigned_at, p.id AS preapproval_id, "
            "p.status, p.expires_at, p.credit_limit, p.grade, m.unread, m.last_message_at "
            "FROM advisor_assignments a JOIN users u ON u.id = a.buyer_id "
            "LEFT JOIN LATERAL (SELECT * FROM preapprovals p WHERE p.buyer_id = a.buyer_id "
            "  ORDER BY p.created_at DESC LIMIT 1) p ON true "
            "CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE m.sender = 'buyer' AND "
            "  m.sent_at > coalesce(a.advisor_read_at, '-infinity')) AS unread, "
            "  max(m.sent_at) AS last_message_at "
            "  FROM advisor_messages m WHERE m.buyer_id = a.buyer_id) m "
            "WHERE a.advisor_id = :advisor ORDER BY a.assigned_at DESC, u.id "
            "LIMIT :limit OFFSET :offset"
        ),
        {"advisor": advisor_id, "limit": limit, "offset": offset},
    )
    return [dict(row._mapping) for row in rows], total


async def diversion_alerts(
    session: AsyncSession, advisor_id: uuid.UUID, looked_up_before: datetime
) -> list[dict[str, Any]]:
    """Look-ups by dealers of this advisor's buyers' approvals that are still unconfirmed
    a day later and not yet handled: the buyer may be financing the car off the platform (飞单)."""
    rows = await session.execute(
        text(
            "SELECT l.id AS lookup_id, l.preapproval_id, l.dealer_id, o.name AS dealer_name, "
            "l.looked_up_at, p.buyer_id, u.full_name AS buyer_name "
            "FROM preapproval_lookups l "
            "JOIN preapprovals p ON p.id = l.preapproval_id "
            "JOIN advisor_assignments a ON a.buyer_id = p.buyer_id "
            "JOIN users u ON u.id = p.buyer_id "
            "JOIN organizations o ON o.id = l.dealer_id "
            "WHERE a.advisor_id = :advisor AND p.status = 'active' AND l.looked_up_at <= :before "
            "AND NOT EXISTS (SELECT 1 FROM advisor_alerts_handled h WHERE h.lookup_id = l.id) "
            "ORDER BY l.looked_up_at DESC LIMIT 200"
        ),
        {"advisor": advisor_id, "before": looked_up_before},
    )
    return [dict(row._mapping) for row in rows]


async def messages(
    session: AsyncSession, buyer_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[Message], int]:
    statement = (
        select(Message)
        .where(col(Message.buyer_id) == buyer_id)
        .order_by(col(Message.sent_at), col(Message.id))
    )
    return await paginate(session, statement, limit=limit, offset=offset)


async def mark_read(
    session: AsyncSession, advisor_id: uuid.UUID, buyer_id: uuid.UUID, at: datetime
) -> None:
    """The advisor has read the conversation up to ``at`` (never moved back)."""
    await session.execute(
        update(AdvisorAssignment)
        .where(
            col(AdvisorAssignment.buyer_id) == buyer_id,
            col(AdvisorAssignment.advisor_id) == advisor_id,
        )
        .values(
            advisor_read_at=func.greatest(
                func.coalesce(col(AdvisorAssignment.advisor_read_at), at), at
            )
        )
    )


async def alert_of(
    session: AsyncSession, advisor_id: uuid.UUID, lookup_id: uuid.UUID
) -> uuid.UUID | None:
    """The look-up if it is of one of this advisor's buyers' approvals (else None)."""
    row = await session.execute(
        text(
            "SELECT l.id FROM preapproval_lookups l "
            "JOIN preapprovals p ON p.id = l.preapproval_id "
            "JOIN advisor_assignments a ON a.buyer_id = p.buyer_id "
            "WHERE l.id = :lookup AND a.advisor_id = :advisor"
        ),
        {"lookup": lookup_id, "advisor": advisor_id},
    )
    found: uuid.UUID | None = row.scalar_one_or_none()
    return found


async def mark_handled(session: AsyncSession, advisor_id: uuid.UUID, lookup_id: uuid.UUID) -> bool:
    """Mark the alert handled once; True if this call marked it."""
    result = await session.execute(
        insert(HandledAlert)
        .values(lookup_id=lookup_id, advisor_id=advisor_id)
        .on_conflict_do_nothing(index_elements=["lookup_id"])
        .returning(col(HandledAlert.lookup_id))
    )
    return result.scalar_one_or_none() is not None


async def list_advisors(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Every advisor login with how many buyers each advises, oldest first."""
    buyers = func.coalesce(col(AdvisorLoad.buyers), 0).label("buyers")
    statement = (
        select(col(User.id), col(User.email), col(User.full_name), col(User.created_at), buyers)
        .outerjoin(AdvisorLoad, col(AdvisorLoad.advisor_id) == col(User.id))
        .where(col(User.kind) == UserKind.advisor)
        .order_by(col(User.created_at), col(User.id))
    )
    rows, total = await paginate(session, statement, limit=limit, offset=offset)
    keys = ("id", "email", "full_name", "created_at", "buyers")
    return [dict(zip(keys, row, strict=True)) for row in rows], total
