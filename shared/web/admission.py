"""Admission control: each worker runs a bounded number of requests and sheds the rest at once.

Past ``max_in_flight`` requests, up to ``max_queued`` more wait (at most ``queue_timeout``
seconds) for a turn; anything beyond, or a wait that times out, answers 503 ``overloaded``
with ``Retry-After`` in the error shape. A worker under more load than it can serve thus
answers quickly — some requests now, the rest "try again in a second" — instead of letting
every request wait 30 seconds for a database connection. Health checks are never queued.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from shared import i18n
from shared.observability import event

EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
RETRY_AFTER_SECONDS = 1


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
        self, app: ASGIApp, *, max_in_flight: int, max_queued: int, queue_timeout: float
    ) -> None:
        self.app = app
        self.max_queued = max_queued
        self.queue_timeout = queue_timeout
        self._slots = asyncio.Semaphore(max_in_flight)
        self._queued = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if not await self._admit():
            event("request.shed", path=scope.get("path"), queued=self._queued)
            await send_unavailable(send, "overloaded", "The service is busy; retry in a second.")
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()

    async def _admit(self) -> bool:
        """Take a slot now, or wait in the bounded queue; False when the request is shed."""
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: returns at once
            return True
        if self._queued >= self.max_queued:
            return False
        self._queued += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_timeout)
        except TimeoutError:
            return False
        finally:
            self._queued -= 1
        return True
