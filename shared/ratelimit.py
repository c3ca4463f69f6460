"""Attempt limits kept in PostgreSQL, so every API process sees the same counts.

Each key (an account, organisation, national-ID hash or approval code — never a client address
alone: a dealer's walk-in customers share one) has one counter row. Counting an attempt is one
atomic statement, ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: it starts a window at the
first attempt, adds one within it and returns the count, so racing attempts each see a
different count and no two slip under a limit together. Nothing takes turns beyond that
statement's row lock, held until the counting transaction commits. Counts committed on their
own are committed lazily (``shared.db.commit_lazily``): a database crash may forget the last
moment's attempts, which costs a throttle nothing that matters.

- ``consume``: every attempt counts (applications: each may cost a bureau pull);
- ``reserve`` / ``reserve_all``: a strict limit on failures (one account's password, a walk-in
  claim code): the attempt counts as a failure before it is compared, committed at once, and
  is taken back on success;
- ``take_turn``: the same strict limit inside the request's transaction with no commit on the
  way (a dealer's look-up of an approval code), which may also watch keys whose failures are
  only read, so successful attempts never wait for each other (a busy dealer's look-ups).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ARRAY,
    Column,
    DateTime,
    Insert,
    Integer,
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
from sqlmodel import Field, SQLModel, col

from shared.db import commit_lazily, table_of
from shared.errors import TooManyRequests


class RateLimitCounter(SQLModel, table=True):
    __tablename__ = "rate_limit_counters"

    key: str = Field(sa_column=Column(String(200), primary_key=True))
    window_started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    count: int = Field(sa_column=Column(Integer, nullable=False))


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


async def _count(
    session: AsyncSession, keys: Iterable[str], window: timedelta
) -> dict[str, tuple[int, int]]:
    """Add one attempt to each key's window, in one statement (keys in a fixed order, so two
    callers cannot deadlock); per key, the count so far and the seconds its window has left."""
    return await _count_watching(session, keys, (), window)


async def _count_watching(
    session: AsyncSession, keys: Iterable[str], watched: Iterable[str], window: timedelta
) -> dict[str, tuple[int, int]]:
    """``_count``, and the failures already counted on ``watched`` keys (not counted here)."""
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


async def consume(
    session: AsyncSession,
    limits: Mapping[str, int],
    *,
    window: timedelta,
    variant: str | None = None,
) -> None:
    """Count one attempt against each key of ``limits`` in the caller's transaction;
    TooManyRequests when any is beyond its limit within ``window`` (the refused attempt rolls
    back with the request, so it is not counted)."""
    for key, (count, seconds_left) in (await _count(session, limits, window)).items():
        if count > limits[key]:
            raise TooManyRequests(variant=variant, retry_after=seconds_left)


@dataclass(frozen=True)
class Reservation:
    """Attempts counted ahead of the outcome (see ``reserve``)."""

    keys: tuple[str, ...]
    window: timedelta

    async def release(self, session: AsyncSession) -> None:
        """The attempt succeeded: take it back off every counter and commit at once, so the
        counter rows are held only for that moment and nothing the request does next (a quote
        refused, a rollback) can turn the success back into a failure."""
        await _release(session, self.keys, self.window)
        await commit_lazily(session)


async def reserve(
    session: AsyncSession,
    key: str,
    *,
    limit: int,
    window: timedelta,
    variant: str | None = None,
) -> Reservation:
    """For a strict limit on *failed* attempts: count this attempt as a failure before its
    outcome is known and commit that at once, so it survives the request's rollback and racing
    guesses can never all be compared; ``release`` it when the attempt succeeds.
    TooManyRequests (with nothing counted) when the key already holds its limit. Successes in
    flight count too, so keep it to keys that see little concurrency (one approval code).

    Commits the session: call it before the work it guards, outside any phase."""
    return await reserve_all(
        session, {key: limit}, window=window, variants={key: variant} if variant else None
    )


async def reserve_all(
    session: AsyncSession,
    limits: Mapping[str, int],
    *,
    window: timedelta,
    variants: Mapping[str, str] | None = None,
) -> Reservation:
    """``reserve`` against several keys at once (one upsert for all, one row per key): the
    attempt counts on each, and TooManyRequests (``variants[key]`` naming which) when any is
    past its limit — then nothing is counted on any."""
    try:
        counts = await _count(session, limits, window)
        for key in sorted(counts):
            count, seconds_left = counts[key]
            if count > limits[key]:
                variant = (variants or {}).get(key)
                raise TooManyRequests(variant=variant, retry_after=seconds_left)
    except BaseException:
        await session.rollback()
        raise
    await commit_lazily(session)
    return Reservation(tuple(sorted(limits)), window)


@dataclass(frozen=True)
class Turn:
    """An attempt counted in the caller's transaction, its counter rows locked until that
    transaction ends (see ``take_turn``)."""

    keys: tuple[str, ...]
    window: timedelta

    async def succeeded(self, session: AsyncSession, *, along: Sequence[Insert] = ()) -> None:
        """The attempt succeeded: take it back in the same transaction (one statement). The
        request then commits a net nothing, or rolls back to nothing if it refuses later (a
        quote the car fails): either way a success never counts as a failure.

        ``along``: INSERTs that record the success (a log row, an audit entry), sent in the
        same statement, so a success costs one round trip whatever it records."""
        statement = _RELEASE.add_cte(*(write.cte() for write in along)) if along else _RELEASE
        await session.execute(statement, {"keys": list(self.keys), "window": self.window})

    async def failed(self, session: AsyncSession, *, also: Iterable[str] = ()) -> None:
        """The attempt failed: keep it counted, count it against ``also`` too, and commit now
        (one statement and the commit), before the request refuses and rolls back. Call it
        before the request has written anything else."""
        if also:
            await _count(session, also, self.window)
        await commit_lazily(session)


async def take_turn(
    session: AsyncSession,
    limits: Mapping[str, int],
    *,
    window: timedelta,
    variants: Mapping[str, str] | None = None,
    watched: Mapping[str, int] | None = None,
) -> Turn:
    """A strict limit on *failed* attempts within the caller's transaction: one statement
    counts the attempt on each key of ``limits`` as a failure before it is compared, and
    reads the failures of ``watched`` keys (counted elsewhere, by ``Turn.failed(also=…)``).
    TooManyRequests (``variants[key]`` naming which) when a key is past its limit, or a
    watched key at it — with nothing counted on any (the transaction rolls back).

    The counter rows stay locked until the request ends, so attempts on one key take turns:
    the next is counted only once this one has committed its failure or its success, and
    racing guesses can never all be compared. Unlike ``reserve_all`` nothing commits on the
    way: a success costs one more statement (``Turn.succeeded``), a failure its commit."""
    watch = dict(watched or {})
    counts = await _count_watching(session, limits, watch, window)
    for key in sorted(counts):
        count, seconds_left = counts[key]
        if key in limits and count > limits[key] or key in watch and count >= watch[key]:
            await session.rollback()
            variant = (variants or {}).get(key)
            raise TooManyRequests(variant=variant, retry_after=seconds_left)
    return Turn(tuple(sorted(limits)), window)


async def _release(session: AsyncSession, keys: Iterable[str], window: timedelta) -> None:
    await session.execute(_RELEASE, {"keys": sorted(keys), "window": window})


async def purge_expired(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete counters whose window started before ``older_than`` (the daily job)."""
    result = await session.execute(
        delete(RateLimitCounter)
        .where(col(RateLimitCounter.window_started_at) < older_than)
        .returning(col(RateLimitCounter.key))
    )
    return len(result.all())
