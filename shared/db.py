"""The database: one async engine per process, one session per request.

The request's session commits once, when the request succeeds, and rolls back on any error;
services only ``flush``. A request that only reads takes ``ReadSessionDep`` instead (and its
principal from ``require_role(…, read_only=True)``): autocommit, so no BEGIN and no COMMIT
round trip, and no writes. Flows that call something outside the database (Stripe, the credit
bureau) commit in explicit phases on that same session instead (``shared.idempotency``), so a
request holds **at most one pooled connection at a time** and none while it waits on the
outside: a pool of N connections then serves any number of requests in turn, never deadlocked
by requests that each hold one connection and wait for a second.

Row locks are taken in one order everywhere (a deal before its approval before its loan; a loan
before its payments before its instalments), so concurrent requests queue instead of deadlocking.
A deadlock or serialization failure that still happens, or a connection found dead (there is no
pre-ping round trip per checkout), is retried by ``shared.web.retry`` before any answer is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import Depends, Request
from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    Table,
    event,
    func,
    inspect,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session
from sqlmodel import Field, SQLModel

# Constraint names are stable and readable, so migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date in UTC, the calendar servicing runs on."""
    return utcnow().date()


def async_url(url: str) -> str:
    """Accept ``postgresql://`` (and ``postgres://``) and use the asyncpg driver."""
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres"):
        parts = parts._replace(scheme="postgresql+asyncpg")
    return urlunsplit(parts)


def plain_url(url: str) -> str:
    """The libpq form of a database URL, for asyncpg.connect and psql."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


class ReadOnlySession(Session):
    """A session for requests that only read. In autocommit each write would commit on its
    own, so it refuses INSERT, UPDATE, DELETE and flushes outright."""


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise RuntimeError("a read-only session was asked to write; use SessionDep")


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_flush(session: Session, context: Any, instances: Any) -> None:
    raise RuntimeError("a read-only session was asked to write; use SessionDep")


class Database:
    """An engine and the session factories the app opens its sessions with (``sessionmaker``
    for requests that write, ``read_sessionmaker`` for those that only read)."""

    def __init__(
        self, engine: AsyncEngine, bind: AsyncEngine | AsyncConnection | None = None
    ) -> None:
        self.engine = engine
        options: dict[str, Any] = {"expire_on_commit": False}
        if isinstance(bind, AsyncConnection):
            # Tests: sessions join an outer transaction; their commits release savepoints.
            options["join_transaction_mode"] = "create_savepoint"
            reads: AsyncEngine | AsyncConnection = bind
        else:
            # The pool's own connections, in autocommit while a read session holds one (set on
            # the driver connection, no round trip; the pool resets it on return).
            reads = (bind or engine).execution_options(isolation_level="AUTOCOMMIT")
        self.sessionmaker = async_sessionmaker(bind or engine, **options)
        self.read_sessionmaker = async_sessionmaker(
            reads, sync_session_class=ReadOnlySession, **options
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 0,
        pool_timeout: float = 5.0,
        **engine_options: Any,
    ) -> Database:
        """An engine whose pool holds ``pool_size`` connections; a checkout waits at most
        ``pool_timeout`` seconds (then ``sqlalchemy.exc.TimeoutError``: 503, not a hang)."""
        engine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            **engine_options,
        )
        return cls(engine)

    async def dispose(self) -> None:
        await self.engine.dispose()


# Deadlock detected, serialization failure: the transaction was rolled back and may be retried.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` rolled back a transaction that can simply be run again: a deadlock, a
    serialization failure, or a pooled connection that turned out to be dead."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    return getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


@contextmanager
def _the_request_session(request: Request) -> Iterator[None]:
    """A request holds one session, so at most one pooled connection (see the module's
    docstring): a route and its dependencies must all take ``SessionDep`` or all
    ``ReadSessionDep``."""
    if getattr(request.state, "database_session", False):
        raise RuntimeError("one request opened two sessions: take SessionDep or ReadSessionDep")
    request.state.database_session = True
    try:
        yield
    finally:
        request.state.database_session = False


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: committed when the route returns, rolled back if it raises."""
    with _the_request_session(request):
        async with get_database(request).sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The session of a request that only reads: its connection runs in autocommit, so no
    BEGIN and no COMMIT round trip. Each statement then sees the database as of its own start,
    as every statement of a READ COMMITTED transaction does; a response that must agree with
    itself reads what it shows in one statement. Writing through it raises."""
    with _the_request_session(request):
        async with get_database(request).read_sessionmaker() as session:
            yield session


# scope="function": commit before the response is sent, so a failed commit is an error response.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]


async def commit_lazily(session: AsyncSession) -> None:
    """Commit without waiting for the write-ahead log to reach the disk (``synchronous_commit``
    off for this one transaction): most of a commit's cost on ordinary disks.

    Only for writes whose loss in a database crash harms nobody — an attempt counter, a claim on
    an idempotency key, a step that a later ordinary commit in the same request follows before
    anyone is answered or charged. The log is written in order, so that later commit makes
    this one durable too."""
    await session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    await session.commit()


def table_of(model: type[SQLModel]) -> Table:
    """A table model's Core table, for statements that need no ORM (composed into another as a
    CTE, or too hot for the unit of work)."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


def timestamp_column(*, nullable: bool = False) -> Column[datetime]:
    """A ``timestamptz`` column; a required one defaults to the database's ``now()``."""
    if nullable:
        return Column(DateTime(timezone=True), nullable=True)
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


def created_now() -> Any:
    """A required timestamp field that defaults to now, in Python and in the database."""
    return Field(default_factory=utcnow, sa_column=timestamp_column())
