"""Attempt limits kept in PostgreSQL, so every API process sees the same counts.

Keys name an account, organisation, national-ID hash or approval code — never a client
address alone (a dealer's walk-in customers share one).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Column, Index, String, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from shared.db import Database, created_now, utcnow
from shared.errors import TooManyRequests


class RateLimitEvent(SQLModel, table=True):
    __tablename__ = "rate_limit_events"
    __table_args__ = (Index("ix_rate_limit_events_key_occurred_at", "key", "occurred_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    key: str = Field(sa_column=Column(String(200), nullable=False))
    occurred_at: datetime = created_now()


async def recent_count(session: AsyncSession, key: str, window: timedelta) -> int:
    statement = select(func.count()).where(
        col(RateLimitEvent.key) == key, col(RateLimitEvent.occurred_at) > utcnow() - window
    )
    return int((await session.execute(statement)).scalar_one())


async def serialize(session: AsyncSession, *keys: str) -> None:
    """Hold transaction-scoped advisory locks on ``keys`` (in a fixed order, so two callers
    cannot deadlock): attempts against the same key then check, act and count one at a time,
    so racing requests cannot all slip under a limit. Released when the transaction ends."""
    for key in sorted(set(keys)):
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )


async def consume(
    session: AsyncSession, key: str, *, limit: int, window: timedelta, message: str | None = None
) -> None:
    """Count one attempt against ``key``; TooManyRequests once ``limit`` fall in ``window``.

    The key is serialized, so count-then-insert is atomic across processes.
    """
    await serialize(session, key)
    if await recent_count(session, key, window) >= limit:
        raise TooManyRequests(message, retry_after=int(window.total_seconds()))
    session.add(RateLimitEvent(key=key))
    await session.flush()


async def ensure_below(
    session: AsyncSession,
    limits: Mapping[str, int],
    *,
    window: timedelta,
    message: str | None = None,
) -> None:
    """TooManyRequests when any key already has its limit of attempts within ``window``.

    The keys are serialized first and stay locked until the caller's transaction ends, so
    racing attempts take turns: each sees the failures recorded (``record_failure``) by the
    ones before it.
    """
    await serialize(session, *limits)
    for key, limit in limits.items():
        if await recent_count(session, key, window) >= limit:
            raise TooManyRequests(message, retry_after=int(window.total_seconds()))


async def record_failure(database: Database, key: str) -> None:
    """Count a failed attempt in a transaction of its own, so the request's rollback keeps it."""
    async with database.sessionmaker() as session, session.begin():
        session.add(RateLimitEvent(key=key))
