"""``autofin worker``: the durable queue (procrastinate, on PostgreSQL) that delivers webhooks
and schedules the daily jobs.

- **Webhooks.** ``shared.webhooks.outbox.emit`` writes an event and a delivery row per
  subscribed endpoint in the transaction of the change, and a transactional ``NOTIFY``. This
  process LISTENs, and also sweeps every ``sweep_interval`` seconds: each due delivery becomes
  a procrastinate job (``webhooks.deliver``, one queued job per delivery at most, by queueing
  lock). A row committed while no worker ran, or whose job was lost with a dying worker, is
  found by the next sweep; nothing is lost between the commit and the queue.
- **Daily jobs.** A periodic task runs what ``autofin jobs run`` runs, every five minutes;
  procrastinate defers each periodic run once however many workers are up.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import procrastinate
from procrastinate.exceptions import AlreadyEnqueued

from shared.db import Database, plain_url, today
from shared.observability import event
from shared.payments.gateway import PaymentGateway
from shared.settings import get_settings
from shared.webhooks.delivery import Deliverer, RetryPolicy
from shared.webhooks.outbox import NOTIFY_CHANNEL

DELIVER_TASK = "webhooks.deliver"
JOBS_TASK = "jobs.run"
JOBS_CRON = "*/5 * * * *"


@dataclass
class WorkerOptions:
    concurrency: int = 8
    sweep_interval: float = 2.0
    policy: RetryPolicy | None = None
    daily_jobs: bool = True
    # On SIGTERM running jobs may finish this long, then are cancelled: every job is safe to
    # cut short (the daily jobs' transaction rolls back; a delivery's lease lapses).
    shutdown_timeout: float = 30.0


def build_queue(database_url: str, *, pool_size: int, daily_jobs: bool) -> procrastinate.App:
    """The procrastinate app on this database, with Autofin's tasks (and the periodic daily
    jobs unless ``daily_jobs`` is false)."""
    queue = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=plain_url(database_url), min_size=1, max_size=pool_size
        )
    )

    @queue.task(name=DELIVER_TASK, queue="webhooks", pass_context=True)
    async def deliver_webhook(context: procrastinate.JobContext, delivery_id: str) -> None:
        deliverer: Deliverer = context.additional_context["deliverer"]
        await deliverer.attempt(uuid.UUID(delivery_id))

    async def run_jobs(context: procrastinate.JobContext, timestamp: int) -> None:
        from autofin.jobs import run_all

        database: Database = context.additional_context["database"]
        gateway = PaymentGateway.from_settings(get_settings())
        try:
            await run_all(database, gateway, as_of=today(), progress=_log_progress)
        finally:
            await gateway.aclose()

    if daily_jobs:
        jobs_task = queue.task(name=JOBS_TASK, queue="jobs", pass_context=True)(run_jobs)
        queue.periodic(cron=JOBS_CRON, periodic_id="daily")(jobs_task)
    return queue


def _log_progress(line: str) -> None:
    event("jobs.progress", line=line.strip())


async def enqueue_delivery(queue: procrastinate.App, delivery_id: uuid.UUID) -> None:
    """Queue one attempt at the delivery, unless one is queued already."""
    deferrer = queue.configure_task(DELIVER_TASK, queueing_lock=f"webhook-delivery:{delivery_id}")
    with contextlib.suppress(AlreadyEnqueued):
        await deferrer.defer_async(delivery_id=str(delivery_id))


async def _listen(database_url: str, wake: asyncio.Event) -> asyncpg.Connection:
    connection = await asyncpg.connect(plain_url(database_url))
    await connection.add_listener(NOTIFY_CHANNEL, lambda *_: wake.set())
    return connection


async def dispatch(
    deliverer: Deliverer,
    queue: procrastinate.App,
    database_url: str,
    *,
    interval: float,
) -> None:
    """Queue due deliveries when notified, and every ``interval`` seconds regardless."""
    wake = asyncio.Event()
    listener = await _listen(database_url, wake)
    try:
        while True:
            wake.clear()
            try:
                await deliverer.sweep(lambda delivery_id: enqueue_delivery(queue, delivery_id))
            except (OSError, asyncpg.PostgresError) as failure:
                event("webhook.sweep_failed", error=type(failure).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=interval)
    finally:
        await listener.close()


async def run_worker(
    database_url: str,
    options: WorkerOptions,
    *,
    install_signal_handlers: bool = True,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run the queue's worker and the dispatcher until stopped (a signal, or cancellation)."""
    pool_size = options.concurrency + 2
    database = Database.from_url(database_url, pool_size=pool_size)
    policy = options.policy or RetryPolicy()
    http = httpx.AsyncClient(follow_redirects=False, timeout=policy.timeout_seconds)
    deliverer = Deliverer(database, http, policy)
    queue = build_queue(database_url, pool_size=pool_size, daily_jobs=options.daily_jobs)
    context: dict[str, Any] = {"deliverer": deliverer, "database": database}
    try:
        async with queue.open_async():
            dispatcher = asyncio.create_task(
                dispatch(deliverer, queue, database_url, interval=options.sweep_interval)
            )
            if on_ready is not None:
                on_ready()
            try:
                await queue.run_worker_async(
                    concurrency=options.concurrency,
                    additional_context=context,
                    delete_jobs="successful",
                    install_signal_handlers=install_signal_handlers,
                    shutdown_graceful_timeout=options.shutdown_timeout,
                )
            finally:
                dispatcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await dispatcher
    finally:
        await http.aclose()
        await database.dispose()
