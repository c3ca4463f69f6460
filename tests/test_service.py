"""The service as an operator meets it: health, readiness, settings, the command line."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autofin.demo import BUYERS, DEALERS, DEMO_PASSWORD, LENDERS, load_demo
from autofin.main import create_app
from shared.db import Database
from shared.identity.models import Organization
from shared.settings import Settings, SettingsError
from tests.conftest import create_database, database_url, drop_database
from tests.factories import login


async def test_healthz_and_readyz_answer_ok(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_readyz_is_503_while_migrations_are_pending(server_url: str) -> None:
    name = await create_database(server_url)
    database = Database.from_url(database_url(server_url, name))
    try:
        transport = httpx.ASGITransport(app=create_app(database))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["database"] == "migrations pending"
    finally:
        await database.dispose()
        await drop_database(server_url, name)


def test_production_refuses_placeholder_secrets() -> None:
    with pytest.raises(SettingsError, match="refusing to start in production"):
        Settings(env="production", database_url="postgresql://db/autofin")


def test_production_starts_with_real_secrets() -> None:
    secret = "kQ3v9Zr1XcLp0Wm7TbYe2Ns5Hd8Gf4Ja6Uo-_xRiVqt"
    settings = Settings(
        env="production",
        database_url="postgresql://db/autofin",
        secret_key=secret,
        stripe_api_key="sk_live_" + "51HaBcDeFgHiJkLmNoPqRsTuVwXyZ0123",
        stripe_webhook_secret="whsec_" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    )
    assert settings.is_production
    assert secret not in repr(settings)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_on_a_fresh_machine_starts_an_embedded_database(tmp_path: Path) -> None:
    """`autofin serve`, with nothing configured, answers /readyz within 30 s."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOFIN_")}
    autofin = Path(sys.executable).with_name("autofin")
    process = subprocess.Popen(
        [str(autofin), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code
                if status == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        assert status == 200, process.stdout.read() if process.poll() is not None else "not ready"
        assert (tmp_path / ".autofin" / "pgdata").is_dir()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/docs" in output
    assert "local Stripe emulator at http://127.0.0.1:" in output
    # Stopping serve stops the database it started: nothing is left running.
    assert not (tmp_path / ".autofin" / "pgdata" / "postmaster.pid").exists(), output


async def test_the_demo_loads_every_role_once_however_often_it_runs(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    printed: list[str] = []
    await load_demo(session, progress=printed.append)
    await load_demo(session, progress=printed.append)
    await session.commit()
    organizations = (await session.execute(select(func.count()).select_from(Organization))).scalar()
    assert organizations == len(LENDERS) + len(DEALERS)
    buyer = await login(client, BUYERS[0][0], DEMO_PASSWORD)
    preapprovals = (await client.get("/v1/buyer/preapprovals", headers=buyer)).json()
    assert preapprovals["total"] == 1 and preapprovals["items"][0]["offers"]
    assert any("approval code" in line for line in printed)


async def test_the_command_line_migrates_creates_an_admin_and_runs_the_daily_jobs_twice(
    server_url: str, tmp_path: Path
) -> None:
    name = await create_database(server_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOFIN_")}
    env |= {
        "AUTOFIN_DATABASE_URL": database_url(server_url, name),
        "AUTOFIN_SECRET_KEY": os.environ["AUTOFIN_SECRET_KEY"],
        "AUTOFIN_DATA_DIR": str(tmp_path),
    }
    autofin = str(Path(sys.executable).with_name("autofin"))

    def run(*args: str) -> str:
        done = subprocess.run(
            [autofin, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def exercise() -> None:
        assert "Database at migrations" in run("db", "upgrade")
        assert "is ready" in run(
            "admin", "create", "--email", "ops@example.com", "--password", "x" * 12
        )
        assert "approval code" in run("demo")
        first = subprocess.Popen(
            [autofin, "jobs", "run", "--as-of", "2027-06-01"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        second = run("jobs", "run", "--as-of", "2027-06-01")
        assert first.wait(timeout=120) == 0
        assert "expired" in second

    try:
        await asyncio.to_thread(exercise)
    finally:
        await drop_database(server_url, name)
