"""Test fixtures: a real PostgreSQL, migrated once per run, each test isolated.

The server is ``AUTOFIN_TEST_DATABASE_URL`` when set (CI points it at 127.0.0.1:5432),
otherwise an embedded one started for this run. The schema is migrated once into a template
database; ordinary tests run inside an outer transaction that is rolled back, and tests of
races and crashes get a committed database of their own, cloned from the template.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

os.environ.setdefault("AUTOFIN_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
os.environ.pop("AUTOFIN_DATABASE_URL", None)
os.environ.pop("AUTOFIN_ENV", None)

from autofin import migrate  # noqa: E402
from autofin.embedded import start_embedded_postgres  # noqa: E402
from autofin.main import create_app  # noqa: E402
from shared.db import Database, plain_url  # noqa: E402
from shared.settings import get_settings  # noqa: E402

pytest_plugins = ["tests.stripe_fixtures"]


def database_url(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``server_url``."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


async def _admin(server_url: str, sql: str) -> None:
    connection = await asyncpg.connect(plain_url(database_url(server_url, "postgres")))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def create_database(server_url: str, *, template: str | None = None) -> str:
    name = f"autofin_test_{uuid.uuid4().hex[:12]}"
    await _admin(
        server_url, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    )
    return name


async def drop_database(server_url: str, name: str) -> None:
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def _test_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    os.environ["AUTOFIN_DATA_DIR"] = str(tmp_path_factory.mktemp("autofin-data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server for this run: the configured one, or an embedded one.

    The embedded server's data lives in a directory of its own, not pytest's rotating
    temporary directories, which a concurrent pytest run may delete under it.
    """
    configured = os.environ.get("AUTOFIN_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    data_dir = Path(tempfile.mkdtemp(prefix="autofin-test-pg-"))
    server, url = start_embedded_postgres(data_dir)
    try:
        yield url
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_database(server_url: str) -> AsyncIterator[str]:
    """A migrated database that is never connected to, so it can be cloned cheaply."""
    import asyncio

    name = await create_database(server_url)
    await asyncio.to_thread(migrate.upgrade, database_url(server_url, name))
    yield name
    await drop_database(server_url, name)


@pytest.fixture(scope="session")
async def database(server_url: str, template_database: str) -> AsyncIterator[Database]:
    """The run's shared test database (each test rolls its work back)."""
    name = await create_database(server_url, template=template_database)
    shared = Database.from_url(database_url(server_url, name), pool_size=5)
    yield shared
    await shared.dispose()
    await drop_database(server_url, name)


@pytest.fixture
async def connection(database: Database) -> AsyncIterator[AsyncConnection]:
    async with database.engine.connect() as conn:
        outer = await conn.begin()
        yield conn
        await outer.rollback()


@pytest.fixture
def app(database: Database, connection: AsyncConnection) -> FastAPI:
    return create_app(Database(database.engine, bind=connection))


@pytest.fixture
async def session(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session inside the test's transaction, for arranging data and checking what was stored."""
    async with app.state.database.sessionmaker() as db_session:
        yield db_session


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def committed_database(server_url: str, template_database: str) -> AsyncIterator[Database]:
    """A database of this test's own, committed for real: for races, crashes and jobs."""
    name = await create_database(server_url, template=template_database)
    own = Database.from_url(database_url(server_url, name), pool_size=10)
    yield own
    await own.dispose()
    await drop_database(server_url, name)


@pytest.fixture
async def committed_client(committed_database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app on ``committed_database``: requests that race really commit."""
    transport = httpx.ASGITransport(app=create_app(committed_database), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
