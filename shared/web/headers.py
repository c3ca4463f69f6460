"""Reading a request header straight from the ASGI scope, for the middlewares every request
passes through (cheaper than building a dict of every header in each of them)."""

from __future__ import annotations

from starlette.types import Scope


def request_header(scope: Scope, name: bytes) -> bytes | None:
    """The value of the request header ``name`` (lower-case, as ASGI gives names); the last one
    when it is repeated, as ``dict(scope["headers"])`` would give it."""
    found = None
    for key, value in scope.get("headers", ()):
        if key == name:
            found = value
    return found
