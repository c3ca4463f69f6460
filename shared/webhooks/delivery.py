"""Sending deliveries: one signed attempt at a time, recorded, then retried on a schedule.

The worker (``autofin/worker.py``) calls ``Deliverer.sweep`` when notified and every few
seconds, which hands every due delivery to the queue as a job, and runs each job with
``Deliverer.attempt``. An attempt first leases its row (a conditional update), so two jobs for
one delivery send it once; a worker that dies mid-attempt lets the lease lapse and a later sweep
queues it again — delivery is at least once, and the receiver dedupes by the event's ``id``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import pii
from shared.db import Database, utcnow
from shared.observability import event
from shared.webhooks import repository, signing
from shared.webhooks.models import WebhookAttempt

_ERROR_LENGTH = 300


def _default_delays() -> tuple[timedelta, ...]:
    return (
        timedelta(seconds=10),
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(hours=1),
    )


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed delivery is tried again: after ``delays`` in turn, then every
    ``then_every``, until ``give_up_after`` has passed since it began (or was redelivered);
    an endpoint failing for ``give_up_after`` is disabled. Tests shrink it."""

    delays: tuple[timedelta, ...] = field(default_factory=_default_delays)
    then_every: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(days=1)
    lease: timedelta = timedelta(minutes=2)  # longer than any attempt can take
    timeout_seconds: float = 10.0

    def next_attempt(
        self, *, failures: int, now: datetime, retrying_since: datetime
    ) -> datetime | None:
        """When to try again after the ``failures``-th failed attempt; None: give up."""
        if now - retrying_since >= self.give_up_after:
            return None
        delay = self.delays[failures - 1] if failures <= len(self.delays) else self.then_every
        return now + delay


def event_body(leased: repository.LeasedDelivery) -> bytes:
    """The bytes every attempt sends: ``{id, type, created, data}``."""
    payload = {
        "id": str(leased.event_id),
        "type": leased.event_type,
        "created": leased.event_created.isoformat(),
        "data": leased.data,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class Deliverer:
    """Sends deliveries from ``database`` with ``http``, on ``policy``'s schedule."""

    def __init__(
        self,
        database: Database,
        http: httpx.AsyncClient,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.http = http
        self.policy = policy or RetryPolicy()
        self.clock = clock

    async def sweep(
        self, enqueue: Callable[[uuid.UUID], Awaitable[None]], *, limit: int = 500
    ) -> int:
        """Hand every due, unleased delivery to ``enqueue``; how many."""
        async with self.database.sessionmaker() as session:
            due = await repository.due_deliveries(session, now=self.clock(), limit=limit)
        for delivery_id in due:
            await enqueue(delivery_id)
        return len(due)

    async def attempt(self, delivery_id: uuid.UUID) -> str:
        """Make one attempt if the delivery is still due: ``delivered``, ``retrying``,
        ``failed`` (given up) or ``skipped`` (not due, leased elsewhere, or done)."""
        now = self.clock()
        async with self.database.sessionmaker() as session, session.begin():
            leased = await repository.lease_delivery(
                session, delivery_id, now=now, until=now + self.policy.lease
            )
        if leased is None:
            return "skipped"
        body = event_body(leased)
        # No transaction or connection is held while the receiver answers.
        status_code, error, duration_ms = await self._post(leased, body)
        return await self._record(leased, status_code, error, duration_ms)

    async def _post(
        self, leased: repository.LeasedDelivery, body: bytes
    ) -> tuple[int | None, str | None, int]:
        timestamp = int(self.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Autofin-Webhooks/1",
            signing.SIGNATURE_HEADER: signing.sign(
                pii.decrypt(leased.secret_encrypted), body, timestamp
            ),
        }
        started = time.monotonic()
        try:
            response = await self.http.post(
                leased.url, content=body, headers=headers, timeout=self.policy.timeout_seconds
            )
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:_ERROR_LENGTH]
            return None, error, _elapsed_ms(started)
        duration_ms = _elapsed_ms(started)
        if 200 <= response.status_code < 300:
            return response.status_code, None, duration_ms
        return response.status_code, f"HTTP {response.status_code}", duration_ms

    async def _record(
        self,
        leased: repository.LeasedDelivery,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
    ) -> str:
        now = self.clock()
        attempt = WebhookAttempt(
            delivery_id=leased.delivery_id,
            attempted_at=now,
            status_code=status_code,
            duration_ms=duration_ms,
            error=error,
        )
        try:
            async with self.database.sessionmaker() as session, session.begin():
                await repository.record_attempt(session, attempt)
                if error is None:
                    await repository.mark_delivered(
                        session, leased.delivery_id, lease=leased.lease, now=now
                    )
                    await repository.endpoint_succeeded(session, leased.endpoint_id)
                    outcome = "delivered"
                else:
                    outcome = await self._failed(session, leased, now)
        except IntegrityError:
            outcome = "endpoint_deleted"  # deleted, with its log, while this attempt was out
        event(
            f"webhook.{outcome}",
            delivery_id=str(leased.delivery_id),
            endpoint_id=str(leased.endpoint_id),
            webhook_event_id=str(leased.event_id),
            status_code=status_code,
            duration_ms=duration_ms,
        )
        return outcome

    async def _failed(
        self, session: AsyncSession, leased: repository.LeasedDelivery, now: datetime
    ) -> str:
        failing_since = await repository.endpoint_failed(session, leased.endpoint_id, now=now)
        failures, first_failure = await repository.failed_attempts(
            session, leased.delivery_id, since=leased.retrying_since
        )
        retry_at = self.policy.next_attempt(
            failures=failures, now=now, retrying_since=leased.retrying_since
        )
        await repository.schedule_retry(
            session, leased.delivery_id, lease=leased.lease, at=retry_at
        )
        # A day of failures: the endpoint has failed for the whole window, or this delivery
        # spent its whole window failing with no success anywhere in between.
        failed_throughout = retry_at is None and failing_since <= first_failure
        if failed_throughout or now - failing_since >= self.policy.give_up_after:
            if await repository.disable_failing_endpoint(session, leased.endpoint_id):
                event("webhook.endpoint_disabled", endpoint_id=str(leased.endpoint_id))
            await repository.give_up_pending(session, leased.endpoint_id)
            return "failed"
        return "retrying" if retry_at is not None else "failed"


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
