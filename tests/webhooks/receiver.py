"""A webhook receiver on 127.0.0.1 (a free port), as an organisation would run one: it checks
each delivery's signature, and answers as the test tells it to."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shared.webhooks import signing


@dataclass
class Received:
    event: dict[str, Any]
    signature_valid: bool
    status: int
    at: float


@dataclass
class Receiver:
    url: str
    secret: str = ""
    # The status to answer for the n-th request (1-based) carrying one event id.
    answer: Callable[[int], int] = lambda n: 200
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def for_event(self, event_id: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.event["id"] == event_id]

    def accepted(self) -> list[str]:
        """Event ids answered 2xx, once per acceptance."""
        with self.lock:
            return [r.event["id"] for r in self.received if 200 <= r.status < 300]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            header = self.headers.get(signing.SIGNATURE_HEADER, "")
            valid = signing.verify(receiver.secret, body, header, now=int(time.time()))
            event = json.loads(body)
            with receiver.lock:
                seen = sum(1 for r in receiver.received if r.event["id"] == event["id"])
                status = receiver.answer(seen + 1)
                receiver.received.append(Received(event, valid, status, time.monotonic()))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
