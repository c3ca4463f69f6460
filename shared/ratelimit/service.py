"""Attempt limits: ``consume``, ``reserve`` / ``reserve_all`` and ``take_turn`` (what each is for
is explained in ``shared.ratelimit``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import commit_lazily
from shared.errors import TooManyRequests
from shared.ratelimit import repository
from shared.writes import Write


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
    for key, (count, seconds_left) in (
        await repository.count_attempts(session, limits, window)
    ).items():
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
        await repository.release_attempts(session, self.keys, self.window)
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
        counts = await repository.count_attempts(session, limits, window)
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

    async def succeeded(self, session: AsyncSession, *, along: Sequence[Write] = ()) -> None:
        """The attempt succeeded: take it back in the same transaction (one statement). The
        request then commits a net nothing, or rolls back to nothing if it refuses later (a
        quote the car fails): either way a success never counts as a failure.

        ``along``: INSERTs that record the success (a log row, an audit entry), sent in the
        same statement, so a success costs one round trip whatever it records."""
        await repository.release_attempts(session, self.keys, self.window, along=along)

    async def failed(self, session: AsyncSession, *, also: Iterable[str] = ()) -> None:
        """The attempt failed: keep it counted, count it against ``also`` too, and commit now
        (one statement and the commit), before the request refuses and rolls back. Call it
        before the request has written anything else."""
        if also:
            await repository.count_attempts(session, also, self.window)
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
    counts = await repository.count_attempts_watching(session, limits, watch, window)
    for key in sorted(counts):
        count, seconds_left = counts[key]
        if key in limits and count > limits[key] or key in watch and count >= watch[key]:
            await session.rollback()
            variant = (variants or {}).get(key)
            raise TooManyRequests(variant=variant, retry_after=seconds_left)
    return Turn(tuple(sorted(limits)), window)


async def purge_expired(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete counters whose window started before ``older_than`` (the daily job)."""
    return await repository.purge_expired_counters(session, older_than=older_than)
