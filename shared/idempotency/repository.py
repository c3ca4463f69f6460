"""The idempotency keys' SQL: claiming a key, moving its recovery point, finding and finishing
abandoned requests, purging old keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, cast, delete, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from shared.db import table_of, utcnow
from shared.idempotency.exceptions import IdempotencyKeyInUse, IdempotencyKeyReused
from shared.idempotency.models import (
    DEFAULT_LOCK_TIMEOUT,
    FINISHED,
    STARTED,
    IdempotencyKey,
    StoredResponse,
)
from shared.observability import event
from shared.writes import Write, with_writes


@dataclass(frozen=True)
class ClaimedKey:
    """A key this request now holds (or a finished one whose ``response`` is to be replayed)."""

    id: int
    recovery_point: str
    data: dict[str, Any]
    locked_at: datetime | None
    response: StoredResponse | None


def _claimed(row: IdempotencyKey) -> ClaimedKey:
    assert row.id is not None
    response = None
    if row.recovery_point == FINISHED and row.response_status is not None:
        response = StoredResponse(row.response_status, row.response_body or {})
    return ClaimedKey(
        id=row.id,
        recovery_point=row.recovery_point,
        data=dict(row.recovery_data or {}),
        locked_at=row.locked_at,
        response=response,
    )


# Built once, bound per request: building them cost a repayment more CPU than sending them.
# The INSERT takes its columns from the parameters' keys, as ``_UPDATE_HELD`` its SET clause.
_KEYS = table_of(IdempotencyKey)
_INSERT_KEY = (
    insert(_KEYS).on_conflict_do_nothing(index_elements=["scope", "key"]).returning(_KEYS.c.id)
)
_LOCK_KEY = (
    select(IdempotencyKey)
    .where(
        col(IdempotencyKey.scope) == bindparam("scope"),
        col(IdempotencyKey.key) == bindparam("key"),
    )
    .with_for_update()
    .execution_options(populate_existing=True)
)


async def claim(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    fingerprint: str,
    lock_timeout: timedelta,
) -> ClaimedKey:
    """Insert the key, or lock the existing row and decide: replay, refuse, or resume."""
    now = utcnow()
    inserted = await session.execute(
        _INSERT_KEY,
        {
            "scope": scope,
            "key": key,
            "request_hash": fingerprint,
            "recovery_point": STARTED,
            "recovery_data": {},
            "locked_at": now,
            "created_at": now,
            "last_run_at": now,
        },
    )
    new_id = inserted.scalar_one_or_none()
    if new_id is not None:
        return ClaimedKey(new_id, STARTED, {}, now, None)

    row = (await session.execute(_LOCK_KEY, {"scope": scope, "key": key})).scalar_one()
    if row.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    if row.recovery_point == FINISHED:
        return _claimed(row)
    if row.locked_at is not None and row.locked_at > now - lock_timeout:
        raise IdempotencyKeyInUse()
    # Unlocked after a failure, or locked by a run that died: this request resumes it.
    row.locked_at = now
    row.last_run_at = now
    await session.flush()
    event("idempotency.resumed", idempotency_key_id=row.id, recovery_point=row.recovery_point)
    return _claimed(row)


def _recovery_data_holds(data: Mapping[str, str]) -> ColumnElement[bool]:
    # Containment, so the GIN index on recovery_data serves it.
    return col(IdempotencyKey.recovery_data).op("@>")(cast(dict(data), JSONB))


async def is_held(
    session: AsyncSession,
    *,
    recovery_data: Mapping[str, str],
    lock_timeout: timedelta = DEFAULT_LOCK_TIMEOUT,
) -> bool:
    """Whether a request whose recovery data holds ``recovery_data`` is running now."""
    held = await session.execute(
        select(col(IdempotencyKey.id))
        .where(
            _recovery_data_holds(recovery_data),
            col(IdempotencyKey.locked_at) > utcnow() - lock_timeout,
        )
        .limit(1)
    )
    return held.first() is not None


async def finish_abandoned(
    session: AsyncSession,
    *,
    recovery_point: str,
    data: Mapping[str, str],
    response: StoredResponse,
    lock_timeout: timedelta = DEFAULT_LOCK_TIMEOUT,
) -> bool:
    """Give the requests stopped at ``recovery_point`` whose recovery data holds ``data`` the
    final answer ``response``, so a late retry replays it instead of resuming; False, changing
    nothing, if a run holds one of them now. Only flushes: commit it with whatever the
    abandonment changes, so the two happen together or not at all.

    The rows are locked first, as ``_claim`` locks them: a retry that claims the key before this
    transaction is seen holding it; one that claims it after finds it finished."""
    rows = (
        (
            await session.execute(
                select(IdempotencyKey)
                .where(
                    col(IdempotencyKey.recovery_point) == recovery_point,
                    _recovery_data_holds(data),
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
        .scalars()
        .all()
    )
    now = utcnow()
    if any(row.locked_at is not None and row.locked_at > now - lock_timeout for row in rows):
        return False
    for row in rows:
        row.recovery_point = FINISHED
        row.response_status = response.status
        row.response_body = response.body
        row.locked_at = None
        row.last_run_at = now
    await session.flush()
    return True


async def purge_expired_keys(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete keys created before ``older_than`` (Stripe keeps its own for 24 hours)."""
    result = await session.execute(
        delete(IdempotencyKey)
        .where(col(IdempotencyKey.created_at) < older_than)
        .returning(col(IdempotencyKey.id))
    )
    return len(result.all())


# Built once: a phase's UPDATE sets whichever columns its values name (SQLAlchemy takes the
# SET clause from the parameters' keys), so no statement is built per call — building one, with
# its WHERE clause, cost a repayment more CPU than sending it.
_UPDATE_HELD = (
    update(_KEYS)
    .where(
        _KEYS.c.id == bindparam("held_key_id"),
        _KEYS.c.locked_at.is_not_distinct_from(
            bindparam("held_locked_at", type_=_KEYS.c.locked_at.type)
        ),
    )
    .returning(_KEYS.c.id)
)


async def update_held(
    session: AsyncSession,
    key_id: int,
    locked_at: datetime | None,
    values: dict[str, Any],
    *,
    along: Sequence[Write] = (),
) -> bool:
    """Apply ``values`` to the key only while the lock taken at ``locked_at`` is still its lock:
    a run that outlived its lock must not overwrite its heir. False when it is not (and the
    caller rolls back what ``along`` wrote with it)."""
    parameters = {**values, "held_key_id": key_id, "held_locked_at": locked_at}
    statement, parameters = with_writes(_UPDATE_HELD, parameters, along)
    result = await session.execute(statement, parameters)
    return result.scalar_one_or_none() is not None
