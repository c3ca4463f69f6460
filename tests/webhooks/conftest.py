"""Webhook fixtures: an API and a worker on a committed database of the test's own, with retry
delays shrunk from seconds and hours to fractions of a second."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from autofin.main import create_app
from autofin.worker import WorkerOptions, run_worker
from shared.db import Database
from shared.webhooks.delivery import RetryPolicy
from tests.factories import Headers, admin_headers, create_organization, staff_headers
from tests.webhooks.receiver import Receiver, running_receiver

FAST = RetryPolicy(
    delays=(timedelta(milliseconds=300), timedelta(milliseconds=300)),
    then_every=timedelta(milliseconds=300),
    give_up_after=timedelta(hours=1),
    lease=timedelta(seconds=5),
    timeout_seconds=5,
)


def database_url(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


@pytest.fixture
async def api(committed_database: Database) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(committed_database))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def lender(api: httpx.AsyncClient, committed_database: Database) -> tuple[uuid.UUID, Headers]:
    """A lender organisation and one of its staff, committed."""
    async with committed_database.sessionmaker() as session:
        admin = await admin_headers(api, session)
    organization = await create_organization(api, admin, "lender")
    return uuid.UUID(str(organization["id"])), await staff_headers(api, admin, organization["id"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


StartWorker = Callable[..., Awaitable[None]]


@pytest.fixture
async def start_worker(committed_database: Database) -> AsyncIterator[StartWorker]:
    """Start ``autofin worker`` in this process on the test's database (stopped at the end)."""
    tasks: list[asyncio.Task[None]] = []

    async def start(policy: RetryPolicy = FAST, **options: Any) -> None:
        ready = asyncio.Event()
        worker = asyncio.create_task(
            run_worker(
                database_url(committed_database),
                WorkerOptions(
                    concurrency=4, sweep_interval=0.1, policy=policy, daily_jobs=False, **options
                ),
                install_signal_handlers=False,
                on_ready=ready.set,
            )
        )
        tasks.append(worker)
        await asyncio.wait_for(ready.wait(), timeout=10)

    yield start
    for worker in tasks:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 30, seen: object = None
) -> None:
    """Wait until ``check`` holds (polling), or fail showing ``seen``."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting; saw {seen!r}")
        await asyncio.sleep(0.1)


async def register(
    api: httpx.AsyncClient,
    headers: Headers,
    receiver: Receiver,
    events: list[str],
    audience: str = "lender",
) -> str:
    """Register ``receiver`` as an endpoint; its id (the receiver learns the secret)."""
    response = await api.post(
        f"/v1/{audience}/webhook-endpoints",
        json={"url": receiver.url, "events": events},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    receiver.secret = response.json()["secret"]
    return str(response.json()["id"])
