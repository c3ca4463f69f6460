"""Requests that only read: their session sends no BEGIN or COMMIT, never writes, and is the
request's one session."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database, ReadSessionDep, SessionDep
from shared.identity.models import User

_STARTED = text("SELECT transaction_timestamp()")


async def _transactions_of_two_statements(session: AsyncSession) -> int:
    """How many transactions two statements in a row ran in (by when each one started)."""
    return len({(await session.execute(_STARTED)).scalar_one() for _ in range(2)})


async def test_each_statement_of_a_read_session_is_a_transaction_of_its_own(
    database: Database,
) -> None:
    # One pooled connection, so both kinds of session take turns on it.
    one = Database.from_url(database.engine.url.render_as_string(hide_password=False), pool_size=1)
    try:
        for _ in range(2):
            async with one.read_sessionmaker() as reading:
                assert await _transactions_of_two_statements(reading) == 2
            # A request that writes runs its statements in one transaction, begun with BEGIN:
            # the connection came back from the read session out of autocommit.
            async with one.sessionmaker() as writing:
                assert await _transactions_of_two_statements(writing) == 1
    finally:
        await one.dispose()


async def test_a_read_session_refuses_to_write(app: FastAPI) -> None:
    async with app.state.database.read_sessionmaker() as reading:
        with pytest.raises(RuntimeError, match="read-only"):
            await reading.execute(update(User).where(User.email == "nobody").values(full_name="x"))
        reading.add(User(email="new@example.com", full_name="新人", kind="buyer"))
        with pytest.raises(RuntimeError, match="read-only"):
            await reading.flush()


async def test_a_request_cannot_hold_a_read_session_beside_a_writing_one(app: FastAPI) -> None:
    both = FastAPI()
    both.state.database = app.state.database

    @both.get("/both")
    async def route(writing: SessionDep, reading: ReadSessionDep) -> dict[str, str]:
        return {}

    transport = httpx.ASGITransport(app=both)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        with pytest.raises(RuntimeError, match="two sessions"):
            await http.get("/both")
