"""The ``autofin`` command line: serve, db upgrade, admin create, demo, jobs run, risk."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from autofin import stripe_emulator
from autofin.risk_commands import add_registry_commands
from risk.cli import add_risk_commands
from shared.settings import PLACEHOLDER_STRIPE_KEY, Settings, get_settings


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


def _database_url() -> tuple[str, Any]:
    """The configured database, or the embedded one under ./.autofin/ (started or reused)."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url, None
    from autofin.embedded import start_embedded_postgres

    _step(f"No AUTOFIN_DATABASE_URL: using the embedded PostgreSQL under {settings.data_dir}/")
    server, url = start_embedded_postgres(settings.data_dir)
    return url, server


def _migrate(url: str) -> None:
    from autofin import migrate

    _step("Applying database migrations")
    migrate.upgrade(url)
    _step(f"Database at migrations {', '.join(sorted(migrate.head_revisions()))}")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = get_settings()
    url, server = _database_url()
    if server is not None:
        _migrate(url)
    os.environ["AUTOFIN_DATABASE_URL"] = url  # the workers read it
    settings.resolved_secret_key()  # create development secrets once, before workers start
    emulator = _local_stripe(settings, args.port)
    get_settings.cache_clear()
    shown_host = "localhost" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
    _step(f"API docs at http://{shown_host}:{args.port}/docs")
    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into a normal exit so
    # the embedded database and the Stripe emulator are stopped below, not left running.
    signal.signal(signal.SIGTERM, _exit_normally)
    try:
        uvicorn.run(
            "autofin.main:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=settings.log_level.lower(),
            access_log=False,
            # asyncio's own loop, not uvloop: once its turns are long (a busy worker), uvloop
            # accepts one new connection per turn (strace: one accept4 per epoll_pwait), so in
            # a burst of new connections the last waited 1.5-2.6 s for their first answer.
            # asyncio accepts every waiting connection each turn; requests per second were
            # the same within noise (bench/http.py, README "Benchmarks").
            loop="asyncio",
        )
    finally:
        if emulator is not None:
            stripe_emulator.stop(emulator)
        if server is not None:
            _step("Stopping the embedded PostgreSQL")
            server.cleanup()


def _local_stripe(settings: Settings, port: int) -> subprocess.Popen[str] | None:
    """In development with no Stripe key, a local Stripe emulator wired to this server, so
    the down payment and repayments work on one machine; None when Stripe is configured."""
    if settings.is_production or settings.stripe_api_key != PLACEHOLDER_STRIPE_KEY:
        return None
    process, base_url = stripe_emulator.start()
    stripe_emulator.register_webhook(
        base_url,
        "autofin",
        f"http://127.0.0.1:{port}/v1/stripe/webhook",
        settings.stripe_webhook_secret,
        events=["payment_intent.succeeded", "payment_intent.payment_failed"],
    )
    os.environ["AUTOFIN_STRIPE_API_BASE"] = base_url
    _step(f"No AUTOFIN_STRIPE_API_KEY: payments go to a local Stripe emulator at {base_url}")
    return process


def _exit_normally(signum: int, frame: object) -> None:
    raise SystemExit(0)


def cmd_db_upgrade(_: argparse.Namespace) -> None:
    url, _server = _database_url()
    _migrate(url)


async def _with_database(work: Callable[[Any], Awaitable[None]]) -> None:
    from shared.db import Database

    url, _server = _database_url()
    database = Database.from_url(url, pool_size=2)
    try:
        await work(database)
    finally:
        await database.dispose()


async def _with_session(work: Callable[[Any], Awaitable[None]]) -> None:
    """Run ``work`` on a session committed when it returns, as a request's is (services that
    call the bureau or Stripe commit their own phases in between)."""

    async def committed(database: Any) -> None:
        async with database.sessionmaker() as session:
            await work(session)
            await session.commit()

    await _with_database(committed)


def cmd_admin_create(args: argparse.Namespace) -> None:
    from shared.identity.service import create_or_reset_admin

    async def work(session: Any) -> None:
        user = await create_or_reset_admin(session, email=args.email, password=args.password)
        _step(f"Admin {user.email} is ready")

    asyncio.run(_with_session(work))


def cmd_demo(_: argparse.Namespace) -> None:
    from autofin.demo import load_demo
    from autofin.demo_collections import load_collections_demo
    from shared.payments.gateway import PaymentGateway

    asyncio.run(_with_session(lambda session: load_demo(session, progress=_step)))
    # Collections move money: with no Stripe key, through a local emulator for the demo's run.
    settings = get_settings()
    emulator = None
    if not settings.is_production and settings.stripe_api_key == PLACEHOLDER_STRIPE_KEY:
        emulator, base_url = stripe_emulator.start()
        os.environ["AUTOFIN_STRIPE_API_BASE"] = base_url
        get_settings.cache_clear()
    gateway = PaymentGateway.from_settings(get_settings())

    async def collections(database: Any) -> None:
        try:
            await load_collections_demo(database, gateway, progress=_step, today=date.today())
        finally:
            await gateway.aclose()

    try:
        asyncio.run(_with_database(collections))
    finally:
        if emulator is not None:
            stripe_emulator.stop(emulator)


def cmd_jobs_run(args: argparse.Namespace) -> None:
    from autofin.jobs import run_all
    from shared.payments.gateway import PaymentGateway

    as_of = args.as_of or date.today()

    async def work(database: Any) -> None:
        # The daily jobs commit first; the debits, reminders and reconciliation then call
        # Stripe and the SMS gateway between transactions.
        gateway = PaymentGateway.from_settings(get_settings())
        try:
            await run_all(database, gateway, as_of=as_of, progress=_step)
        finally:
            await gateway.aclose()

    asyncio.run(_with_database(work))


def cmd_worker(args: argparse.Namespace) -> None:
    from autofin.worker import WorkerOptions, run_worker
    from shared.observability import configure_logging

    configure_logging(get_settings().log_level)  # webhook.delivered, jobs.progress, …
    url, _server = _database_url()
    _step(f"Worker: webhooks, and the jobs every 5 minutes ({args.concurrency} jobs at once)")
    asyncio.run(run_worker(url, WorkerOptions(concurrency=args.concurrency)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autofin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API (starts an embedded database if none)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=cmd_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply migrations to AUTOFIN_DATABASE_URL").set_defaults(
        run=cmd_db_upgrade
    )

    admin = commands.add_parser("admin", help="platform admins").add_subparsers(
        dest="admin_command", required=True
    )
    create = admin.add_parser("create", help="create (or reset the password of) a platform admin")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.set_defaults(run=cmd_admin_create)

    commands.add_parser(
        "demo", help="load demo lenders, dealers, staff, advisors and buyers"
    ).set_defaults(run=cmd_demo)

    jobs = commands.add_parser("jobs", help="daily jobs").add_subparsers(
        dest="jobs_command", required=True
    )
    run = jobs.add_parser(
        "run",
        help="expire approvals, mark delinquency, apply late fees, settle payments from Stripe",
    )
    run.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default today)"
    )
    run.set_defaults(run=cmd_jobs_run)

    worker = commands.add_parser(
        "worker", help="deliver webhooks and schedule the daily jobs (a durable queue)"
    )
    worker.add_argument("--concurrency", type=int, default=8, help="jobs run at once")
    worker.set_defaults(run=cmd_worker)

    add_registry_commands(add_risk_commands(commands), _with_session)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
