"""``autofin worker`` schedules what ``autofin jobs run`` does, every five minutes, on the queue."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text

from autofin.cli import build_parser
from autofin.worker import JOBS_CRON, JOBS_TASK, build_queue
from shared.db import Database, utcnow
from tests.stripe_fixtures import LocalStripe
from tests.webhooks.conftest import database_url


def test_the_worker_command_takes_its_concurrency() -> None:
    args = build_parser().parse_args(["worker", "--concurrency", "3"])
    assert args.concurrency == 3 and args.run.__name__ == "cmd_worker"


async def test_the_daily_jobs_are_a_periodic_task_that_does_what_jobs_run_does(
    committed_database: Database, stripe_settings: LocalStripe
) -> None:
    url = database_url(committed_database)
    queue = build_queue(url, pool_size=2, daily_jobs=True)
    [periodic] = queue.periodic_registry.periodic_tasks.values()
    assert periodic.cron == JOBS_CRON == "*/5 * * * *" and periodic.task.name == JOBS_TASK
    assert build_queue(url, pool_size=2, daily_jobs=False).periodic_registry.periodic_tasks == {}

    async with committed_database.sessionmaker() as session:
        await session.execute(
            text(
                "INSERT INTO rate_limit_counters (key, window_started_at, count) "
                "VALUES ('old-key', :started, 1)"
            ),
            {"started": utcnow() - timedelta(days=3)},
        )
        await session.commit()
    # What the worker hands each job (only ``additional_context`` is read).
    context: Any = SimpleNamespace(additional_context={"database": committed_database})
    await periodic.task(context, timestamp=int(utcnow().timestamp()))
    async with committed_database.sessionmaker() as session:
        left = await session.scalar(text("SELECT count(*) FROM rate_limit_counters"))
    assert left == 0  # purged by the daily jobs, as `autofin jobs run` purges it
