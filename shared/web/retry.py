"""Run a request again when its transaction failed for a reason that says nothing about it.

A deadlock, a serialization failure or a dead pooled connection (``shared.db.is_transient``)
rolled the request's transaction back whole, so running the route again — dependencies, body
and commit included — is safe. This middleware replays the request's body to the route and
retries a few times with a little jitter, as long as no byte of a response was sent; it sits
inside the request-id boundary and outside the routes, so the route's own commit is covered.

It also turns "no database connection within the pool timeout" into 503 ``database_busy``
with ``Retry-After``: load to shed, not a server error. Flows with money phases are retried at
their recovery point (``shared.idempotency``), never from scratch.
"""

from __future__ import annotations

import asyncio
import random

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import is_transient
from shared.observability import event
from shared.web.admission import send_unavailable

ATTEMPTS = 4


class TransientRetry:
    """ASGI middleware: retry transient database failures; a pool timeout answers 503."""

    def __init__(self, app: ASGIApp, *, attempts: int = ATTEMPTS) -> None:
        self.app = app
        self.attempts = attempts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        started = False

        async def recording(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        for attempt in range(1, self.attempts + 1):
            try:
                await self.app(scope, _replaying(received, receive), recording)
                return
            except PoolTimeout:
                if started:
                    raise
                event("db.pool_timeout", path=scope.get("path"))
                await send_unavailable(
                    send, "database_busy", "The service is busy; retry in a second."
                )
                return
            except DBAPIError as error:
                if started or not is_transient(error):
                    raise
                event("db.transient_failure", path=scope.get("path"), attempt=attempt)
                if attempt == self.attempts:
                    await send_unavailable(
                        send, "database_busy", "The service is busy; retry in a second."
                    )
                    return
                await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311


def _replaying(received: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives back what earlier attempts read, then reads on (recording)."""
    position = 0

    async def replay() -> Message:
        nonlocal position
        if position < len(received):
            position += 1
            return received[position - 1]
        message = await receive()
        received.append(message)
        position += 1
        return message

    return replay
