"""The app behind a real uvicorn on 127.0.0.1, for tests that need real HTTP (a browser, Stripe's
webhooks, several servers sharing one database as separate processes would)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port for the block; its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # A test's client keeps its connection between requests while the test drives a browser
    # for seconds: with uvicorn's 5 s keep-alive the server could close that connection just as
    # the client reused it (httpx.ReadError on the next POST, seen once in CI).
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_keep_alive=300)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(1000):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
