"""The floor for ``bench/http.py``: the least an API on this stack can do per request.

FastAPI on uvicorn (one worker, the same server stack ``autofin serve`` runs), an asyncpg pool
as large as Autofin's, and one route that reads one row by primary key and answers it as JSON.
Whatever Autofin spends above this per request is its own work: validation, auth, its
transactions and their round trips, pricing, audit.

``bench/http.py`` runs it as ``uvicorn bench.floor:create_app --factory`` from the repository
root, with ``BENCH_FLOOR_DATABASE_URL`` (libpq form), ``BENCH_FLOOR_POOL_MIN`` and
``BENCH_FLOOR_POOL_MAX``;
``ensure_table`` creates and fills the table it reads.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, HTTPException, Request

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


def create_app() -> FastAPI:
    url = os.environ["BENCH_FLOOR_DATABASE_URL"]
    pool_min = int(os.environ.get("BENCH_FLOOR_POOL_MIN", "10"))
    pool_max = int(os.environ.get("BENCH_FLOOR_POOL_MAX", "30"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(url, min_size=pool_min, max_size=pool_max)
        yield
        await app.state.pool.close()

    app = FastAPI(title="bench floor", lifespan=lifespan)

    @app.get("/floor/{row_id}")
    async def read_row(row_id: int, request: Request) -> dict[str, Any]:
        pool: asyncpg.Pool = request.app.state.pool
        row = await pool.fetchrow(
            f"SELECT id, name, amount, created_at FROM {TABLE} WHERE id = $1",  # noqa: S608
            row_id,
        )
        if row is None:
            raise HTTPException(status_code=404)
        return dict(row)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
