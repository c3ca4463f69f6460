"""Admission control: each worker runs a bounded number of requests and sheds the rest at once.

Past ``max_in_flight`` requests, up to ``max_queued`` more wait (at most ``queue_timeout``
seconds) for a turn; anything beyond, or a wait that times out, answers 503 ``overloaded``
with ``Retry-After`` in the error shape. A worker under more load than it can serve thus
answers soon — some requests now, the rest "try again in a second" — instead of letting
every request wait 30 seconds for a database connection. Health checks are never queued.

A request shed because the queue is full is answered after ``shed_delay`` seconds (a quarter
of a second by default), holding no slot meanwhile. Answered at once, a client that ignores
``Retry-After`` asks again at once: 200 such connections made a worker answer about 4,400
rejections a second, which took two thirds of its CPU from the requests it had admitted (60
quotes a second instead of 200, and admitted ones waiting over 2 s). Paced, each connection
costs at most one rejection per ``shed_delay``. The sheds are logged as one event a second
with their count, not one line each.
"""

from __future__ import annotations

import asyncio
import json
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from shared import i18n
from shared.observability import event

EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
RETRY_AFTER_SECONDS = 1
SHED_LOG_INTERVAL_SECONDS = 1.0


async def send_unavailable(send: Send, code: str, message: str) -> None:
    """A 503 in the error shape, with ``Retry-After``: the caller should come back shortly."""
    message = i18n.error_text(code, message)
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AdmissionControl:
    """ASGI middleware bounding the requests one worker serves at once (see the module doc)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int,
        max_queued: int,
        queue_timeout: float,
        shed_delay: float,
    ) -> None:
        self.app = app
        self.max_queued = max_queued
        self.queue_timeout = queue_timeout
        self.shed_delay = shed_delay
        self._slots = asyncio.Semaphore(max_in_flight)
        self._queued = 0
        self._shed = 0  # since the last ``requests.shed`` event
        self._shed_logged_at = float("-inf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        admitted = await self._admit()
        if admitted is None:
            self._count_shed()
            await asyncio.sleep(self.shed_delay)  # no slot held: pacing only
        if not admitted:
            await send_unavailable(send, "overloaded", "The service is busy; retry in a second.")
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()

    async def _admit(self) -> bool | None:
        """Take a slot now, or wait in the bounded queue for one. False when the wait timed
        out (the request already waited; it is answered at once), None when the queue was full
        (the request is shed; its answer is paced)."""
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: returns at once
            return True
        if self._queued >= self.max_queued:
            return None
        self._queued += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_timeout)
        except TimeoutError:
            self._count_shed()
            return False
        finally:
            self._queued -= 1
        return True

    def _count_shed(self) -> None:
        """Count a shed request; log the count at most once per ``SHED_LOG_INTERVAL_SECONDS``
        (a line per rejection would be thousands of lines a second under overload)."""
        self._shed += 1
        now = time.monotonic()
        if now - self._shed_logged_at >= SHED_LOG_INTERVAL_SECONDS:
            event("requests.shed", shed=self._shed, queued=self._queued)
            self._shed, self._shed_logged_at = 0, now
