"""Under load a worker answers quickly: admission control sheds what it cannot run soon (503,
``Retry-After``), a transaction that lost a deadlock is run again, and a request that cannot get
a connection in time is told to come back instead of hanging."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from autofin.main import create_app
from shared.db import Database, SessionDep
from shared.web.admission import AdmissionControl
from shared.web.retry import TransientRetry
from tests.load import pool_of


def _client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30)


def _held() -> tuple[FastAPI, asyncio.Event]:
    """An app whose ``GET /slow`` holds its turn until the event is set."""
    release = asyncio.Event()
    app = FastAPI()

    @app.get("/slow")
    async def slow() -> dict[str, bool]:
        await release.wait()
        return {"done": True}

    return app, release


async def test_past_its_slots_and_queue_a_worker_sheds_at_once_with_retry_after() -> None:
    app, release = _held()
    shedding = AdmissionControl(app, max_in_flight=2, max_queued=1, queue_timeout=5, shed_delay=0)
    async with _client(shedding) as client:
        requests = [asyncio.create_task(client.get("/slow")) for _ in range(5)]
        answered: set[asyncio.Task[httpx.Response]] = set()
        while len(answered) < 2:  # the two beyond the slots and the queue answer at once
            done, _ = await asyncio.wait(
                set(requests) - answered, return_when=asyncio.FIRST_COMPLETED
            )
            answered |= done
        shed = [task.result() for task in answered]
        release.set()
        served = [await task for task in requests if task not in answered]

    assert [r.status_code for r in served] == [200, 200, 200]  # two ran, one waited its turn
    assert [r.status_code for r in shed] == [503, 503]
    assert all(r.headers["Retry-After"] == "1" for r in shed)
    assert shed[0].json()["error"]["code"] == "overloaded"


async def test_a_queued_request_that_waits_too_long_is_shed() -> None:
    app, release = _held()
    shedding = AdmissionControl(app, max_in_flight=1, max_queued=5, queue_timeout=0.1, shed_delay=0)
    async with _client(shedding) as client:
        running = asyncio.create_task(client.get("/slow"))
        await asyncio.sleep(0.05)
        queued = await client.get("/slow")
        release.set()
        assert (await running).status_code == 200
    assert queued.status_code == 503


async def test_a_client_that_asks_again_at_once_is_paced_and_the_admitted_go_on() -> None:
    """A shed request is answered after ``shed_delay``, holding no slot: a client that ignores
    Retry-After gets one rejection per delay, not as many as the worker can write, and the
    request being served finishes meanwhile."""
    app, release = _held()
    shedding = AdmissionControl(app, max_in_flight=1, max_queued=0, queue_timeout=1, shed_delay=0.1)
    async with _client(shedding) as client:
        running = asyncio.create_task(client.get("/slow"))
        await asyncio.sleep(0.02)
        loop = asyncio.get_running_loop()
        started, shed = loop.time(), []
        while loop.time() - started < 0.5:  # asks again the moment it is refused
            shed.append(await client.get("/slow"))
        elapsed = loop.time() - started
        release.set()
        served = await running

    assert served.status_code == 200
    assert {r.status_code for r in shed} == {503}
    assert all(r.headers["Retry-After"] == "1" for r in shed)
    # Each rejection waited the delay: at most one per 0.1 s (5 in half a second, not thousands).
    assert elapsed / len(shed) >= 0.099  # (the loop may wake a timer a hair early)


async def test_sheds_are_logged_as_a_count_not_a_line_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, release = _held()
    shedding = AdmissionControl(app, max_in_flight=1, max_queued=0, queue_timeout=1, shed_delay=0)
    caplog.set_level(logging.INFO, logger="autofin")
    async with _client(shedding) as client:
        running = asyncio.create_task(client.get("/slow"))
        await asyncio.sleep(0.02)
        shed = [await client.get("/slow") for _ in range(50)]
        release.set()
        await running

    assert [r.status_code for r in shed] == [503] * 50
    logged = [r for r in caplog.records if r.getMessage() == "requests.shed"]
    assert len(logged) == 1  # the first; the other 49 are counted into the next second's line
    assert logged[0].event_fields == {"shed": 1, "queued": 0}


async def test_the_defaults_let_32_concurrent_clients_through(app: FastAPI) -> None:
    body = {"principal": 10_000_000, "annual_rate": "0.06", "term_months": 36}
    async with _client(app) as client:
        answers = await asyncio.gather(
            *(client.post("/v1/calculator", json=body) for _ in range(32))
        )
    assert [a.status_code for a in answers] == [200] * 32


async def test_a_transaction_that_lost_a_deadlock_is_run_again(
    committed_database: Database,
) -> None:
    """Two requests lock the same two rows in opposite orders: PostgreSQL aborts one with a
    deadlock, and the retry runs it again (body included) instead of answering 500."""
    app = create_app(committed_database)
    both_hold_one = asyncio.Barrier(2)
    attempts: list[str] = []

    @app.post("/test/lock")
    async def lock_both(request: Request, session: SessionDep) -> dict[str, str]:
        order = (await request.json())["order"]
        attempts.append(order[0])
        for n, key in enumerate(order):
            await session.execute(
                text("SELECT * FROM rate_limit_counters WHERE key = :key FOR UPDATE"),
                {"key": key},
            )
            if n == 0 and len(attempts) <= 2:
                await both_hold_one.wait()
        return {"locked": ",".join(order)}

    async with committed_database.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO rate_limit_counters (key, window_started_at, count)"
                " VALUES ('a', now(), 0), ('b', now(), 0)"
            )
        )
    async with _client(app) as client:
        answers = await asyncio.gather(
            client.post("/test/lock", json={"order": ["a", "b"]}),
            client.post("/test/lock", json={"order": ["b", "a"]}),
        )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert {a.json()["locked"] for a in answers} == {"a,b", "b,a"}
    assert len(attempts) == 3  # the deadlock's loser ran twice


async def test_a_failure_that_is_not_transient_is_not_retried() -> None:
    calls = 0
    app = FastAPI()

    @app.get("/broken")
    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise DBAPIError("SELECT 1", {}, ValueError("syntax"))

    with pytest.raises(DBAPIError):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=TransientRetry(app)), base_url="http://t"
        ) as client:
            await client.get("/broken")
    assert calls == 1


@pytest.fixture
async def one_connection(committed_database: Database) -> AsyncIterator[Database]:
    url = committed_database.engine.url.render_as_string(hide_password=False)
    single = Database.from_url(url, pool_size=1, pool_timeout=0.2)
    yield single
    await single.dispose()


async def test_no_connection_in_time_answers_503_not_a_hang(one_connection: Database) -> None:
    app = create_app(one_connection)
    holding = asyncio.Event()
    release = asyncio.Event()

    @app.get("/test/hold")
    async def hold(session: SessionDep) -> dict[str, bool]:
        await session.execute(text("SELECT 1"))
        holding.set()
        await release.wait()
        return {"held": True}

    async with _client(app) as client:
        held = asyncio.create_task(client.get("/test/hold"))
        await holding.wait()
        refused = await client.get(
            "/v1/buyer/applications", headers={"Authorization": "Bearer afk_x"}
        )
        release.set()
        assert (await held).status_code == 200
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "database_busy"


async def test_every_flow_works_through_a_single_connection(
    committed_database: Database,
) -> None:
    """A pool of one: any request that needed a second connection would wait for itself."""
    async with pool_of(committed_database, 1) as single:
        app = create_app(single)
        async with _client(app) as client:
            health = await client.get("/readyz")
            body = {"principal": 10_000_000, "annual_rate": "0.06", "term_months": 36}
            calculated = await client.post("/v1/calculator", json=body)
    assert health.status_code == calculated.status_code == 200
