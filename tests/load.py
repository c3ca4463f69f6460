"""Helpers for tests that put more requests in flight than the connection pool holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.db import Database


@asynccontextmanager
async def pool_of(database: Database, size: int) -> AsyncIterator[Database]:
    """Another engine on ``database``'s committed database whose pool holds ``size``
    connections and no overflow. A request that needed two at once would wait for one held
    by another such request: with more requests than connections, they would all wait out the
    pool timeout (a generous 30 s here, so a slow machine never fails a correct run)."""
    url = database.engine.url.render_as_string(hide_password=False)
    small = Database.from_url(url, pool_size=size, pool_timeout=30)
    try:
        yield small
    finally:
        await small.dispose()
