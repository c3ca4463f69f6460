"""The floors for ``bench/http.py``: the least an API on this stack can do per request.

FastAPI on uvicorn (one worker, the same server stack ``autofin serve`` runs) with two routes
reading the same row by primary key and answering it as JSON:

* ``/floor/{id}``, the **bare floor**: one ``fetchrow`` from an asyncpg pool as large as Autofin's.
  Whatever Autofin spends above this is the stack it chose plus its own work.
* ``/stack/{id}``, the **stack floor**: the row read the way Autofin reads, through SQLAlchemy's
  ``AsyncSession`` on an engine with Autofin's pool size: a session per request from a
  dependency, one ORM ``select``, a commit when the route returns. Whatever Autofin spends above
  this is its own work: validation, auth, its statements and round trips, pricing, audit.

``bench/http.py`` runs it as ``uvicorn bench.floor:create_app --factory`` from the repository
root, with ``BENCH_FLOOR_DATABASE_URL`` (libpq form), ``BENCH_FLOOR_POOL_MIN``,
``BENCH_FLOOR_POOL_MAX`` and ``BENCH_FLOOR_READER`` (``asyncpg``: the bare floor's route and pool;
``session``: the stack floor's), one reader at a time, so that the two pools never hold their
connections at once (PostgreSQL's 100 are shared with Autofin and whatever else runs);
``ensure_table`` creates and fills the table it reads.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, HTTPException, Request
from sqlalchemy import BigInteger, DateTime, Integer, Text, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TABLE = "bench_floor"
ROWS = 1000


async def ensure_table(connection: asyncpg.Connection) -> None:
    """The table the floor reads: ``ROWS`` rows keyed 1…ROWS (created once per scratch DB)."""
    await connection.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id integer PRIMARY KEY, name text NOT NULL, "
        "amount bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
    )
    await connection.execute(
        f"INSERT INTO {TABLE} (id, name, amount) "  # noqa: S608 (a constant table name)
        "SELECT n, 'row ' || n, n * 100 FROM generate_series(1, $1) AS n ON CONFLICT DO NOTHING",
        ROWS,
    )


class _Base(DeclarativeBase):
    """Its own metadata: the floor's table is not one of Autofin's."""


class FloorRow(_Base):
    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """As ``shared.db.get_session``: committed when the route returns, rolled back if it raises."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]


#: ``BENCH_FLOOR_READER`` → the path its route answers (``/<path>/{id}``).
READERS = {"asyncpg": "floor", "session": "stack"}


def create_app() -> FastAPI:
    url = os.environ["BENCH_FLOOR_DATABASE_URL"]
    pool_min = int(os.environ.get("BENCH_FLOOR_POOL_MIN", "10"))
    pool_max = int(os.environ.get("BENCH_FLOOR_POOL_MAX", "30"))
    reader = os.environ.get("BENCH_FLOOR_READER", "asyncpg")
    if reader not in READERS:
        raise ValueError(f"BENCH_FLOOR_READER must be one of {', '.join(READERS)}")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if reader == "asyncpg":
            app.state.pool = await asyncpg.create_pool(url, min_size=pool_min, max_size=pool_max)
            yield
            await app.state.pool.close()
            return
        engine = create_async_engine(
            url.replace("postgresql://", "postgresql+asyncpg://", 1),
            pool_size=pool_min,
            max_overflow=pool_max - pool_min,
        )
        app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        yield
        await engine.dispose()

    app = FastAPI(title="bench floor", lifespan=lifespan)

    async def read_row(row_id: int, request: Request) -> dict[str, Any]:
        pool: asyncpg.Pool = request.app.state.pool
        row = await pool.fetchrow(
            f"SELECT id, name, amount, created_at FROM {TABLE} WHERE id = $1",  # noqa: S608
            row_id,
        )
        if row is None:
            raise HTTPException(status_code=404)
        return dict(row)

    async def read_row_through_the_stack(row_id: int, session: SessionDep) -> dict[str, Any]:
        row = (
            await session.execute(select(FloorRow).where(FloorRow.id == row_id))
        ).scalar_one_or_none()
        if row is None:
            raise HTTPException(status_code=404)
        return {"id": row.id, "name": row.name, "amount": row.amount, "created_at": row.created_at}

    if reader == "asyncpg":
        app.get("/floor/{row_id}")(read_row)
    else:
        app.get("/stack/{row_id}")(read_row_through_the_stack)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
