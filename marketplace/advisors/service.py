"""Advisors: every approved buyer gets one (the least loaded), they message each other, and the
advisor is alerted when a dealer looks an approval up but does not confirm it within a day."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.advisors import repository
from marketplace.advisors.exceptions import AlertNotFound, BuyerNotFound, NoAdvisorYet
from marketplace.advisors.models import Message
from shared import audit
from shared.identity.principal import Principal

DIVERSION_ALERT_AFTER = timedelta(days=1)


async def assign_advisor(session: AsyncSession, buyer_id: uuid.UUID) -> uuid.UUID | None:
    """The buyer's advisor, assigning the least loaded active one if they have none yet.

    None when no advisor exists; the buyer is then assigned as soon as one is created.
    """
    current, advisor_id = await repository.advisor_or_candidate(session, buyer_id)
    if current is not None:
        return current
    if advisor_id is None:
        return None
    if await repository.assign(session, buyer_id, advisor_id):
        audit.record(
            session,
            actor=audit.SYSTEM_ACTOR,
            action="advisor.assigned",
            subject_type="user",
            subject_id=buyer_id,
            after={"advisor_id": str(advisor_id)},
        )
        return advisor_id
    return await repository.advisor_of(session, buyer_id)


async def assign_waiting_buyers(session: AsyncSession) -> int:
    """Assign every approved buyer who has no advisor yet; how many were assigned."""
    assigned = 0
    for buyer_id in await repository.unassigned_approved_buyers(session):
        if await assign_advisor(session, buyer_id) is not None:
            assigned += 1
    return assigned


async def send(
    session: AsyncSession, *, buyer_id: uuid.UUID, advisor_id: uuid.UUID, sender: str, body: str
) -> Message:
    message = Message(buyer_id=buyer_id, advisor_id=advisor_id, sender=sender, body=body)
    session.add(message)
    await session.flush()
    return message


async def buyer_advisor(session: AsyncSession, buyer: Principal) -> uuid.UUID:
    advisor_id = await repository.advisor_of(session, buyer.uid)
    if advisor_id is None:
        raise NoAdvisorYet()
    return advisor_id


async def ensure_advises(session: AsyncSession, advisor: Principal, buyer_id: uuid.UUID) -> None:
    """Only the buyer's own advisor reaches them; anyone else is told there is no such buyer."""
    if await repository.advisor_of(session, buyer_id) != advisor.uid:
        raise BuyerNotFound()


async def alerts(session: AsyncSession, advisor: Principal, now: datetime) -> list[dict[str, Any]]:
    return await repository.diversion_alerts(session, advisor.uid, now - DIVERSION_ALERT_AFTER)


async def handle_alert(
    session: AsyncSession, advisor: Principal, lookup_id: uuid.UUID, now: datetime
) -> None:
    """Mark a diversion alert handled (the advisor has called the buyer); marking it again is
    a no-op. Only alerts about the advisor's own buyers exist for them."""
    if await repository.alert_of(session, advisor.uid, lookup_id) is None:
        raise AlertNotFound()
    if await repository.mark_handled(session, advisor.uid, lookup_id):
        audit.record(
            session,
            actor=advisor,
            action="advisor.alert_handled",
            subject_type="preapproval_lookup",
            subject_id=lookup_id,
            after={"handled_at": now.isoformat()},
        )


async def buyer_conversation(
    session: AsyncSession, buyer: Principal, *, limit: int, offset: int
) -> tuple[Sequence[Message], int]:
    """A page of the buyer's conversation with their advisor, oldest first, and its length."""
    await buyer_advisor(session, buyer)
    return await repository.messages(session, buyer.uid, limit=limit, offset=offset)


async def advisor_conversation(
    session: AsyncSession, advisor: Principal, buyer_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[Message], int]:
    """A page of the advisor's conversation with one of their buyers, oldest first, and its
    length."""
    await ensure_advises(session, advisor, buyer_id)
    return await repository.messages(session, buyer_id, limit=limit, offset=offset)


async def mark_conversation_read(
    session: AsyncSession, advisor: Principal, buyer_id: uuid.UUID, now: datetime
) -> None:
    """The advisor has read the conversation: the buyer's messages so far are no longer unread."""
    await ensure_advises(session, advisor, buyer_id)
    await repository.mark_read(session, advisor.uid, buyer_id, now)


async def advised_buyers(
    session: AsyncSession, advisor: Principal, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of the advisor's buyers and their number."""
    return await repository.buyers_of(session, advisor.uid, limit=limit, offset=offset)


async def advisors(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of every advisor login with their load, and their number."""
    return await repository.list_advisors(session, limit=limit, offset=offset)
