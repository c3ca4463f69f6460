"""Domain errors and the one JSON error shape: ``{"error": {"code", "message"}}``.

Each domain declares small subclasses beside the service that raises them
(``class ApprovalExpired(Conflict): code = "approval_expired"``); one set of handlers turns
them, validation errors, unknown routes and unhandled exceptions into the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class DomainError(Exception):
    """A refusal the caller can act on; carries its HTTP status and a stable code."""

    status_code: int = 400
    code: str = "bad_request"
    message: str = "The request cannot be processed."

    def __init__(
        self, message: str | None = None, *, code: str | None = None, field: str | None = None
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.field = field
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        return {"error": error}

    def headers(self) -> dict[str, str] | None:
        return None


class BadRequest(DomainError):
    status_code = 400


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"
    message = "Authentication is required."


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    message = "Not found."


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class Unprocessable(DomainError):
    status_code = 422
    code = "unprocessable"
    message = "The request is not valid."


class TooManyRequests(DomainError):
    status_code = 429
    code = "rate_limited"
    message = "Too many attempts; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


def error_responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route, from the domain errors it may raise."""
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        entry = responses.setdefault(error.status_code, {"description": "", "model": ErrorBody})
        entry["description"] = ", ".join(filter(None, [entry["description"], error.code]))
    return responses


def _field_name(location: Sequence[Any]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in location)


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers())


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return _error(400, "malformed_json", "The request body is not valid JSON.")
    fields = [
        # Never echo the rejected input back: it may be a national ID or a password.
        {"field": _field_name(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
        for e in errors
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return _error(422, "validation_error", f"Invalid request: {summary}", fields=fields)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = "No such resource."
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail
