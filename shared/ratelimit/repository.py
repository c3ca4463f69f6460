"""The rate-limit counters' SQL: attempts counted (and watched) in one statement, taken back,
and old counters purged. How limits use them is explained in ``shared.ratelimit``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    ARRAY,
    Interval,
    String,
    any_,
    bindparam,
    delete,
    func,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.db import table_of
from shared.ratelimit.models import RateLimitCounter
from shared.writes import Write, with_writes

# Adds one attempt to each key of ``:keys`` (starting a new window for a key whose window is
# over) and returns each one's count and the seconds its window has left; in the same statement
# reads the failures already held by the keys that are only watched (``:watched``, counted
# elsewhere), so a request learns every count it is limited by in one round trip.
_COUNT = text(
    """
    WITH counted AS (
        INSERT INTO rate_limit_counters AS c (key, window_started_at, count)
        SELECT key, now(), 1 FROM unnest(CAST(:keys AS text[])) AS key
        ON CONFLICT (key) DO UPDATE SET
            count = CASE WHEN c.window_started_at <= now() - make_interval(secs => :seconds)
                         THEN 1 ELSE c.count + 1 END,
            window_started_at = CASE
                WHEN c.window_started_at <= now() - make_interval(secs => :seconds)
                THEN now() ELSE c.window_started_at END
        RETURNING key, count, window_started_at
    ), watched AS (
        SELECT key, count, window_started_at FROM rate_limit_counters
        WHERE key = ANY(CAST(:watched AS text[]))
          AND window_started_at > now() - make_interval(secs => :seconds)
    )
    SELECT key, count,
        EXTRACT(EPOCH FROM window_started_at + make_interval(secs => :seconds) - now())
    FROM (SELECT * FROM counted UNION ALL SELECT * FROM watched) AS seen
    """
)
_COUNTERS = table_of(RateLimitCounter)
# Takes one attempt back off each key of ``:keys`` whose window is still open.
_RELEASE = (
    update(_COUNTERS)
    .where(
        _COUNTERS.c.key == any_(bindparam("keys", type_=ARRAY(String))),
        _COUNTERS.c.window_started_at > func.now() - bindparam("window", type_=Interval()),
    )
    .values(count=func.greatest(_COUNTERS.c.count - 1, 0))
)


async def count_attempts(
    session: AsyncSession, keys: Iterable[str], window: timedelta
) -> dict[str, tuple[int, int]]:
    """Add one attempt to each key's window, in one statement (keys in a fixed order, so two
    callers cannot deadlock); per key, the count so far and the seconds its window has left."""
    return await count_attempts_watching(session, keys, (), window)


async def count_attempts_watching(
    session: AsyncSession, keys: Iterable[str], watched: Iterable[str], window: timedelta
) -> dict[str, tuple[int, int]]:
    """``count_attempts``, and the failures already counted on ``watched`` keys (not counted
    here)."""
    counted = sorted(set(keys))
    rows = await session.execute(
        _COUNT,
        {
            "keys": counted,
            "watched": sorted(set(watched) - set(counted)),
            "seconds": window.total_seconds(),
        },
    )
    return {key: (int(count), max(math.ceil(left), 1)) for key, count, left in rows.all()}


async def release_attempts(
    session: AsyncSession, keys: Iterable[str], window: timedelta, *, along: Sequence[Write] = ()
) -> None:
    """Take one attempt back off each key's current window; ``along``: INSERTs sent in the same
    statement (as CTEs), so what records a success costs no round trip of its own."""
    statement, parameters = with_writes(_RELEASE, {"keys": sorted(keys), "window": window}, along)
    await session.execute(statement, parameters)


async def purge_expired_counters(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete counters whose window started before ``older_than`` (the daily job)."""
    result = await session.execute(
        delete(RateLimitCounter)
        .where(col(RateLimitCounter.window_started_at) < older_than)
        .returning(col(RateLimitCounter.key))
    )
    return len(result.all())
