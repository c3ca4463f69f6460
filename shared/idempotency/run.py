"""``IdempotentRun``: one attempt at an idempotent request, as atomic phases on its session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.db import commit_lazily, is_transient
from shared.errors import DomainError
from shared.idempotency import models, repository
from shared.idempotency.exceptions import IdempotencyKeyInUse
from shared.idempotency.models import (
    FINISHED,
    PHASE_ATTEMPTS,
    RecoveryPoint,
    StoredResponse,
)
from shared.observability import event
from shared.writes import Write

Phase = Callable[[AsyncSession], Awaitable[RecoveryPoint | StoredResponse]]


class IdempotentRun:
    """One attempt at an idempotent request, run as atomic phases that each commit.

    Use ``IdempotentRun.begin(...)`` as an async context manager (see ``shared.idempotency``).
    """

    def __init__(self, session: AsyncSession, claimed: repository.ClaimedKey) -> None:
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
        lock_timeout: timedelta | None = None,
    ) -> AsyncIterator[IdempotentRun]:
        """Claim ``key`` in a committed transaction, then run the caller's phases.

        Every transaction runs on ``session`` (the request's), one after another, so the
        request holds one connection at a time and none between phases. The claim commits
        whatever the session read before it (the caller's authentication) with it: one commit,
        not two. Call it before the request writes anything else: a refused claim rolls back."""
        try:
            claimed = await repository.claim(
                session,
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                # Read when called, so a test can shorten it: a run whose process or connection
                # died without releasing its key holds it this long.
                lock_timeout=lock_timeout or models.DEFAULT_LOCK_TIMEOUT,
            )
        except BaseException:
            await session.rollback()
            raise
        # The claim need not wait for the disk: the first phase commits durably before anything
        # is charged or answered, and a claim lost in a crash is simply made again by the retry.
        await commit_lazily(session)
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
                    # The phase's audit entries go with the key's update (its last statement).
                    entries = audit.pending(self._session)
                    await self._update(values, along=[] if entries is None else [entries])
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

    async def _update(self, values: dict[str, Any], *, along: Sequence[Write] = ()) -> None:
        if not await repository.update_held(
            self._session, self._id, self._locked_at, values, along=along
        ):
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
