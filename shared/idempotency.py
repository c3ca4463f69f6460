"""Idempotency keys for POSTs that move money or consume credit, the way Stripe does it.

Modelled on Brandur Leach's "Implementing Stripe-like Idempotency Keys in Postgres": one row per
``(scope, key)`` holding a hash of the request, a lock (``locked_at``), a ``recovery_point`` naming
the last phase that committed, and, once finished, the response to replay.

- same key, same request, finished    → the stored response is replayed (``Idempotent-Replayed``)
- same key, different request         → 422 ``idempotency_key_reused``
- same key while another is in flight → 409 ``idempotency_key_in_use``
- a run that crashed (lock older than ``lock_timeout``) or failed → the next retry resumes at
  its recovery point; nothing committed before it is done twice

A flow runs as explicit atomic phases (each phase commits on its own, and the Stripe call runs
between phases, outside any transaction)::

    async with IdempotentRun.begin(
        database, scope=idempotency_scope(principal), key=idempotency_key,
        fingerprint=request_fingerprint("POST", f"/v1/dealer/deals/{deal_id}/confirm", body),
    ) as run:
        if run.response is None and run.recovery_point == STARTED:
            async def book(session: AsyncSession) -> RecoveryPoint:
                loan = await deal_service.confirm_and_book(session, deal_id=deal_id)  # consumes
                return RecoveryPoint("booked", {"loan_id": str(loan.id)})           # the approval
            await run.phase(book)
        if run.response is None and run.recovery_point == "booked":
            intent = await gateway.create_payment_intent(            # no transaction open here
                amount=deal.down_payment_amount, idempotency_key=f"deal-{deal_id}-down-payment",
                metadata={"purpose": "down_payment", "deal_id": str(deal_id)},
            )
            async def store(session: AsyncSession) -> StoredResponse:
                await deal_service.store_down_payment(session, deal_id, intent.id)
                return StoredResponse(200, {"deal": ..., "loan_id": run.data["loan_id"], ...})
            await run.phase(store)
        return run.response.to_response()

A retry after a crash between the phases skips phase 1 (``booked`` is committed) and calls Stripe
again with the same Stripe idempotency key, which real Stripe answers with the same PaymentIntent.
If a phase raises a ``DomainError`` below 500 the refusal is stored and replayed (a decided
outcome); any other failure releases the lock so the client's retry resumes at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    DateTime,
    Index,
    Integer,
    String,
    UniqueConstraint,
    cast,
    delete,
    func,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col, select

from shared.db import created_now, is_transient, utcnow
from shared.errors import BadRequest, Conflict, DomainError, Unprocessable
from shared.identity.principal import Principal
from shared.observability import event

STARTED = "started"
FINISHED = "finished"
DEFAULT_LOCK_TIMEOUT = timedelta(seconds=90)
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
PHASE_ATTEMPTS = 3


class IdempotencyKeyRequired(BadRequest):
    code = "idempotency_key_required"
    message = "This request needs an Idempotency-Key header (a unique value per operation)."


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used with a different request."


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    message = "A request with this Idempotency-Key is still in progress; retry shortly."


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("scope", "key"),
        # Reconciliation finds the requests behind a payment by their recovery data.
        Index(
            "ix_idempotency_keys_recovery_data",
            "recovery_data",
            postgresql_using="gin",
            postgresql_ops={"recovery_data": "jsonb_path_ops"},
        ),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    scope: str = Field(sa_column=Column(String(100), nullable=False))
    key: str = Field(sa_column=Column(String(MAX_KEY_LENGTH), nullable=False))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    recovery_point: str = Field(sa_column=Column(String(50), nullable=False))
    recovery_data: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False)
    )
    locked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    response_status: int | None = Field(default=None, sa_column=Column(Integer))
    response_body: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), index=True
        ),
    )
    last_run_at: datetime = created_now()


@dataclass(frozen=True)
class StoredResponse:
    """The answer a finished request gave, replayed verbatim to every retry."""

    status: int
    body: dict[str, Any]

    def to_response(self, *, replayed: bool = False) -> JSONResponse:
        headers = {REPLAYED_HEADER: "true"} if replayed else None
        return JSONResponse(self.body, status_code=self.status, headers=headers)


@dataclass(frozen=True)
class RecoveryPoint:
    """What a phase committed: its name, and ids later phases need (merged into ``data``)."""

    name: str
    data: Mapping[str, Any] = field(default_factory=dict)


def request_fingerprint(method: str, path: str, body: BaseModel | Mapping[str, Any] | None) -> str:
    """A stable hash of what the request asks for, to tell a retry from a different request."""
    if isinstance(body, BaseModel):
        payload: Any = body.model_dump(mode="json")
    else:
        payload = dict(body) if body is not None else None
    canonical = json.dumps(
        [method.upper(), path, payload], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_scope(principal: Principal) -> str:
    """Keys are per tenant: an organisation's staff and API keys share one key space."""
    if principal.organization_id is not None:
        return f"org:{principal.organization_id}"
    return f"user:{principal.user_id}"


def _idempotency_key_header(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            description="A unique value per operation; a retry with the same value is replayed.",
        ),
    ] = None,
) -> str:
    if idempotency_key is None or not idempotency_key.strip():
        raise IdempotencyKeyRequired()
    value = idempotency_key.strip()
    if len(value) > MAX_KEY_LENGTH or not value.isprintable():
        raise IdempotencyKeyRequired(variant="malformed", params={"max_length": MAX_KEY_LENGTH})
    return value


IdempotencyKeyDep = Annotated[str, Depends(_idempotency_key_header)]
"""The request's ``Idempotency-Key`` header, required (400 ``idempotency_key_required``)."""


@dataclass(frozen=True)
class ClaimedKey:
    """A key this request now holds (or a finished one whose ``response`` is to be replayed)."""

    id: int
    recovery_point: str
    data: dict[str, Any]
    locked_at: datetime | None
    response: StoredResponse | None


def _claimed(row: IdempotencyKey) -> ClaimedKey:
    assert row.id is not None
    response = None
    if row.recovery_point == FINISHED and row.response_status is not None:
        response = StoredResponse(row.response_status, row.response_body or {})
    return ClaimedKey(
        id=row.id,
        recovery_point=row.recovery_point,
        data=dict(row.recovery_data or {}),
        locked_at=row.locked_at,
        response=response,
    )


async def _claim(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    fingerprint: str,
    lock_timeout: timedelta,
) -> ClaimedKey:
    """Insert the key, or lock the existing row and decide: replay, refuse, or resume."""
    now = utcnow()
    inserted = await session.execute(
        insert(IdempotencyKey)
        .values(
            scope=scope,
            key=key,
            request_hash=fingerprint,
            recovery_point=STARTED,
            recovery_data={},
            locked_at=now,
            created_at=now,
            last_run_at=now,
        )
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(col(IdempotencyKey.id))
    )
    new_id = inserted.scalar_one_or_none()
    if new_id is not None:
        return ClaimedKey(new_id, STARTED, {}, now, None)

    row = (
        await session.execute(
            select(IdempotencyKey)
            .where(col(IdempotencyKey.scope) == scope, col(IdempotencyKey.key) == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    if row.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    if row.recovery_point == FINISHED:
        return _claimed(row)
    if row.locked_at is not None and row.locked_at > now - lock_timeout:
        raise IdempotencyKeyInUse()
    # Unlocked after a failure, or locked by a run that died: this request resumes it.
    row.locked_at = now
    row.last_run_at = now
    await session.flush()
    event("idempotency.resumed", idempotency_key_id=row.id, recovery_point=row.recovery_point)
    return _claimed(row)


# -- as explicit atomic phases ----------------------------------------------------------------

Phase = Callable[[AsyncSession], Awaitable[RecoveryPoint | StoredResponse]]


class IdempotentRun:
    """One attempt at an idempotent request, run as atomic phases that each commit.

    Use ``IdempotentRun.begin(...)`` as an async context manager (see the module docstring).
    """

    def __init__(self, session: AsyncSession, claimed: ClaimedKey) -> None:
        self._session = session
        self._id = claimed.id
        self._locked_at = claimed.locked_at
        self.recovery_point = claimed.recovery_point
        self.data: dict[str, Any] = claimed.data
        self.response: StoredResponse | None = claimed.response
        self.replayed = claimed.response is not None

    @property
    def id(self) -> int:
        """The key row's id: link rows created by a phase to it if you need to find them again."""
        return self._id

    @classmethod
    @asynccontextmanager
    async def begin(
        cls,
        session: AsyncSession,
        *,
        scope: str,
        key: str,
        fingerprint: str,
        lock_timeout: timedelta = DEFAULT_LOCK_TIMEOUT,
    ) -> AsyncIterator[IdempotentRun]:
        """Claim ``key`` in a committed transaction of its own, then run the caller's phases.

        Every transaction runs on ``session`` (the request's), one after another: whatever the
        session did before (the caller's authentication) is committed first, so the request
        holds one connection at a time and none between phases."""
        await session.commit()
        async with session.begin():
            claimed = await _claim(
                session, scope=scope, key=key, fingerprint=fingerprint, lock_timeout=lock_timeout
            )
        run = cls(session, claimed)
        if run.response is not None:
            yield run
            return
        try:
            yield run
        except DomainError as refusal:
            if refusal.status_code >= 500:
                await run._release()
                raise
            # A decided refusal (approval expired, card declined) is the request's answer.
            await run._store(StoredResponse(refusal.status_code, refusal.body()))
            raise
        except BaseException:
            await run._release()
            raise
        else:
            if run.response is None:
                # The caller stopped before a final phase: let a retry pick it up.
                await run._release()

    async def phase(self, phase: Phase) -> None:
        """Run ``phase`` in its own transaction and commit it with the new recovery point (or
        the final response), only if this run still holds the key. A deadlock or
        serialization failure rolls the phase back whole; it is then run again."""
        for attempt in range(1, PHASE_ATTEMPTS + 1):
            try:
                async with self._session.begin():
                    outcome = await phase(self._session)
                    if isinstance(outcome, StoredResponse):
                        values: dict[str, Any] = {
                            "recovery_point": FINISHED,
                            "response_status": outcome.status,
                            "response_body": outcome.body,
                            "locked_at": None,
                        }
                        data = self.data
                    else:
                        data = {**self.data, **outcome.data}
                        values = {"recovery_point": outcome.name, "recovery_data": data}
                    await self._update(values)
                break
            except DBAPIError as error:
                if not is_transient(error) or attempt == PHASE_ATTEMPTS:
                    raise
                event("idempotency.phase_retried", idempotency_key_id=self._id, attempt=attempt)
        self.data = data
        self.recovery_point = str(values["recovery_point"])
        if isinstance(outcome, StoredResponse):
            self.response = outcome
        event("idempotency.phase", idempotency_key_id=self._id, recovery_point=self.recovery_point)

    async def _update(self, values: dict[str, Any]) -> None:
        result = await self._session.execute(
            update(IdempotencyKey)
            .where(
                col(IdempotencyKey.id) == self._id,
                # Our lock, still ours: a run that outlived its lock must not overwrite its heir.
                col(IdempotencyKey.locked_at) == self._locked_at,
            )
            .values(**values)
            .returning(col(IdempotencyKey.id))
        )
        if result.scalar_one_or_none() is None:
            raise IdempotencyKeyInUse()

    async def _store(self, response: StoredResponse) -> None:
        await self._session.rollback()  # whatever the failed phase left open
        async with self._session.begin():
            await self._update(
                {
                    "recovery_point": FINISHED,
                    "response_status": response.status,
                    "response_body": response.body,
                    "locked_at": None,
                }
            )
        self.response = response

    async def _release(self) -> None:
        try:
            await self._session.rollback()
            async with self._session.begin():
                await self._update({"locked_at": None})
        except IdempotencyKeyInUse:
            pass  # already taken over by a later run; nothing of ours to release
        except Exception:  # the lock times out by itself; never hide the original error
            event("idempotency.release_failed", idempotency_key_id=self._id)


def _recovery_data_holds(data: Mapping[str, str]) -> ColumnElement[bool]:
    # Containment, so the GIN index on recovery_data serves it.
    return col(IdempotencyKey.recovery_data).op("@>")(cast(dict(data), JSONB))


async def is_held(
    session: AsyncSession,
    *,
    recovery_data: Mapping[str, str],
    lock_timeout: timedelta = DEFAULT_LOCK_TIMEOUT,
) -> bool:
    """Whether a request whose recovery data holds ``recovery_data`` is running now."""
    held = await session.execute(
        select(col(IdempotencyKey.id))
        .where(
            _recovery_data_holds(recovery_data),
            col(IdempotencyKey.locked_at) > utcnow() - lock_timeout,
        )
        .limit(1)
    )
    return held.first() is not None


async def finish_abandoned(
    session: AsyncSession,
    *,
    recovery_point: str,
    data: Mapping[str, str],
    response: StoredResponse,
    lock_timeout: timedelta = DEFAULT_LOCK_TIMEOUT,
) -> bool:
    """Give the requests stopped at ``recovery_point`` whose recovery data holds ``data`` the
    final answer ``response``, so a late retry replays it instead of resuming; False, changing
    nothing, if a run holds one of them now. Only flushes: commit it with whatever the
    abandonment changes, so the two happen together or not at all.

    The rows are locked first, as ``_claim`` locks them: a retry that claims the key before this
    transaction is seen holding it; one that claims it after finds it finished."""
    rows = (
        (
            await session.execute(
                select(IdempotencyKey)
                .where(
                    col(IdempotencyKey.recovery_point) == recovery_point,
                    _recovery_data_holds(data),
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
        .scalars()
        .all()
    )
    now = utcnow()
    if any(row.locked_at is not None and row.locked_at > now - lock_timeout for row in rows):
        return False
    for row in rows:
        row.recovery_point = FINISHED
        row.response_status = response.status
        row.response_body = response.body
        row.locked_at = None
        row.last_run_at = now
    await session.flush()
    return True


async def purge_expired_keys(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete keys created before ``older_than`` (Stripe keeps its own for 24 hours)."""
    result = await session.execute(
        delete(IdempotencyKey)
        .where(col(IdempotencyKey.created_at) < older_than)
        .returning(col(IdempotencyKey.id))
    )
    return len(result.all())


__all__ = [
    "FINISHED",
    "IDEMPOTENCY_HEADER",
    "STARTED",
    "ClaimedKey",
    "IdempotencyKey",
    "IdempotencyKeyDep",
    "IdempotencyKeyInUse",
    "IdempotencyKeyRequired",
    "IdempotencyKeyReused",
    "IdempotentRun",
    "RecoveryPoint",
    "StoredResponse",
    "finish_abandoned",
    "idempotency_scope",
    "is_held",
    "purge_expired_keys",
    "request_fingerprint",
]
