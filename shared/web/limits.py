"""Limits every request meets before any route parses it.

- ``BodySizeLimit``: a body larger than ``AUTOFIN_MAX_BODY_BYTES`` answers 413
  ``payload_too_large`` in the error shape. A declared ``Content-Length`` over the limit is
  refused before a byte is read; a body without one (chunked) is counted as it arrives and
  refused as soon as it passes the limit, so nothing larger is ever buffered or parsed.
- ``RefuseControlCharacters``: a path or query string holding a control character (NUL above
  all, which PostgreSQL cannot store in text) answers 422 ``validation_error`` naming the
  parameter. Bodies are checked by the request models (``shared.schemas.RequestModel``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import i18n
from shared.text import has_control_character
from shared.web.headers import request_header


async def send_error(send: Send, status: int, code: str, fallback: str, **extra: Any) -> None:
    """An error in the one shape, localized by ``code``, sent straight from a middleware."""
    error = {"code": code, "message": i18n.error_text(code, fallback), **extra}
    body = json.dumps({"error": error}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


TOO_LARGE = "The request body is larger than this service accepts."


class BodySizeLimit:
    """ASGI middleware refusing bodies over ``max_bytes`` with 413 (see the module doc)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A file upload (multipart: the documents a deal needs) may be as large as the largest
        # document accepted plus its envelope; the upload route checks the file itself.
        content_type = request_header(scope, b"content-type") or b""
        uploading = content_type.startswith(b"multipart/form-data")
        limit = self.max_upload_bytes if uploading else self.max_bytes
        declared = request_header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await send_error(send, 413, "payload_too_large", TOO_LARGE)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTPExceptions met while reading a body; the error
                    # handlers render it (``payload_too_large``), else the except below does.
                    raise HTTPException(413, TOO_LARGE)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except HTTPException as error:
            if error.status_code != 413 or started:
                raise
            await send_error(send, 413, "payload_too_large", TOO_LARGE)


class RefuseControlCharacters:
    """ASGI middleware: 422 for a control character in the path or the query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = _field_with_control_character(scope)
            if field is not None:
                message = i18n.error_text(
                    "control_characters", "Text may not contain control characters."
                )
                await send_error(
                    send,
                    422,
                    "validation_error",
                    f"Invalid request: {field}: {message}",
                    fields=[{"field": field, "message": message}],
                )
                return
        await self.app(scope, receive, send)


def _field_with_control_character(scope: Scope) -> str | None:
    if has_control_character(str(scope.get("path", ""))):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8"):
        if has_control_character(name) or has_control_character(value):
            return name if not has_control_character(name) else "query"
    return None
