"""Request ids and structured log events (never personal data: log ids, not names).

Events carry ids only. What the code does not choose to log — an exception's message, which
SQLAlchemy fills with the statement's ``[parameters: …]`` and PostgreSQL with the row's
values (``Key (email)=(…)``), pydantic with ``input_value=…`` — is redacted structurally: every
log record this process creates, from any logger, passes ``redact_record`` (installed as the
log-record factory by ``configure_logging``) before any handler sees it; its traceback is
rendered and redacted then, and the live exception is dropped from the record. Phone numbers,
national IDs and e-mail addresses that still appear anywhere in a record are masked too.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import traceback
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import i18n
from shared.web.headers import request_header

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_NAME = REQUEST_ID_HEADER.encode()

log = logging.getLogger("autofin")


def current_request_id() -> str | None:
    return _request_id.get()


def event(name: str, **fields: Any) -> None:
    """Log a structured event such as ``deal.confirmed`` with ids (never personal data)."""
    log.info(name, extra={"event_fields": fields})


_REDACTED = "<redacted>"
_REDACTIONS: list[tuple[re.Pattern[str], str]] = [
    # SQLAlchemy: "[parameters: ('13812345678', 'a@b.cn', ...)]" (one line, values repr'd)
    (re.compile(r"\[parameters: [^\n]*"), f"[parameters: {_REDACTED}]"),
    # PostgreSQL's DETAIL of a constraint violation: "Key (email)=(a@b.cn) already exists."
    (
        re.compile(r"Key \(([^)\n]*)\)=\([^\n]*?\)( already exists| is not present|\.|$)"),
        rf"Key (\1)=({_REDACTED})\2",
    ),
    (re.compile(r"Failing row contains \([^\n]*\)"), f"Failing row contains ({_REDACTED})"),
    # asyncpg and PostgreSQL quoting the input they refused
    (re.compile(r"(invalid input for query argument \$\d+:)[^\n]*"), rf"\1 {_REDACTED}"),
    (
        re.compile(r"(invalid (?:input syntax|input value|byte sequence) for [^:\n]*:)[^\n]*"),
        rf"\1 {_REDACTED}",
    ),
    # pydantic's ValidationError: "[type=…, input_value='…', input_type=str]"
    (re.compile(r"input_value=.*?, input_type="), f"input_value={_REDACTED}, input_type="),
    # Whatever else still looks like personal data
    (re.compile(r"[^\s@\"'<>(),;:\[\]]+@[^\s@\"'<>(),;:\[\]]+\.[A-Za-z]{2,}"), _REDACTED),
    (re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])"), _REDACTED),
    (re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])"), _REDACTED),
]


def redact(text: str) -> str:
    """``text`` without SQL parameters, refused input values or personal data."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place: its message rendered and redacted, its traceback rendered
    and redacted into ``exc_text`` and the exception itself dropped, so no handler or
    formatter can render the raw values again."""
    # Message and arguments are redacted apart, keeping their shape: some formatters
    # (uvicorn's access log) unpack ``args``.
    record.msg = redact(record.msg) if isinstance(record.msg, str) else redact(str(record.msg))
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_argument(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _redact_argument(v) for k, v in record.args.items()}
    if record.exc_info:
        if record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        record.exc_info = None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    fields = getattr(record, "event_fields", None)
    if isinstance(fields, dict):
        record.event_fields = {k: redact(v) if isinstance(v, str) else v for k, v in fields.items()}
    return record


def _redact_argument(value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(value if isinstance(value, str) else str(value))


_factory_installed = False


def install_redaction() -> None:
    """Make every log record of this process pass ``redact_record`` as it is created."""
    global _factory_installed
    if _factory_installed:
        return
    make_record = logging.getLogRecordFactory()

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(make_record(*args, **kwargs))

    logging.setLogRecordFactory(redacted_record)
    _factory_installed = True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        entry.update(getattr(record, "event_fields", {}))
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


_HANDLER_NAME = "autofin.json"


def configure_logging(level: str) -> None:
    install_redaction()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.set_name(_HANDLER_NAME)
    # Replaces only the handler an earlier call installed (apps are built more than once in
    # one process), keeping any other, such as a test's capture.
    log.handlers[:] = [h for h in log.handlers if h.get_name() != _HANDLER_NAME] + [handler]
    log.setLevel(level)
    log.propagate = False


class RequestIdMiddleware:
    """Give every request an id (or keep a sane one the caller sent), echo it back, and turn
    an unhandled exception into a 500 in the error shape with that id and no stack trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = (request_header(scope, _REQUEST_ID_NAME) or b"").decode("latin-1")
        request_id = sent if 8 <= len(sent) <= 64 and sent.isalnum() else secrets.token_hex(8)
        request_id_header = (_REQUEST_ID_NAME, request_id.encode())
        token = _request_id.set(request_id)
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                message["headers"] = [*message.get("headers", ()), request_id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # The error boundary: log the trace with the request id, answer without it.
            log.exception("request.failed", extra={"request_id": request_id})
            if not response_started:
                await _send_internal_error(send_with_id, request_id)
        finally:
            _request_id.reset(token)


async def _send_internal_error(send: Send, request_id: str) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "internal_error",
                "message": i18n.error_text("internal_error", "Something went wrong on our side."),
                "request_id": request_id,
            }
        },
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
