"""Domain errors and the one JSON error shape: ``{"error": {"code", "message"}}``.

Each domain declares small subclasses beside the service that raises them
(``class ApprovalExpired(Conflict): code = "approval_expired"``); one set of handlers turns
them, validation errors, unknown routes and unhandled exceptions into the same shape.

``message`` is in the reader's language (``Accept-Language``; zh-CN by default), from the
``errors`` catalogue (``shared/locales/*/LC_MESSAGES/errors.po``) keyed by ``code``, or by
``code.variant`` where one code has several messages; ``params`` fill its placeholders. The
English ``message`` declared on a class is the fallback and what logs show; ``code`` never
changes with the language.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared import i18n


class DomainError(Exception):
    """A refusal the caller can act on; carries its HTTP status and a stable code."""

    status_code: int = 400
    code: str = "bad_request"
    message: str = "The request cannot be processed."
    # Which of a code's messages this is (``errors.po`` key ``code.variant``), when it has several.
    variant: str | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        variant: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        self.params = dict(params or {})
        self.code = code or self.code
        self.variant = variant or self.variant
        self.field = field
        self.message = i18n.render(message or self.message, self.params, "en")
        # A message written at the raise with no variant has no catalogue entry of its own.
        self._untranslated = message is not None and variant is None
        super().__init__(self.message)

    def catalogue_keys(self) -> list[str]:
        """The ``errors.po`` keys that may hold this error's message, most specific first."""
        return ([f"{self.code}.{self.variant}"] if self.variant else []) + [self.code]

    def localized_message(self, locale: str) -> str:
        """The message in ``locale``; the English one when the catalogue has no entry."""
        if self._untranslated:
            return self.message
        for key in self.catalogue_keys():
            template = i18n.gettext("errors", key, locale)
            if template is not None:
                return i18n.render(template, self.params, locale)
        return self.message

    def body(self, locale: str | None = None) -> dict[str, Any]:
        """The error's JSON body, in ``locale`` (by default the current request's)."""
        message = self.localized_message(locale or i18n.current_locale.get())
        error: dict[str, Any] = {"code": self.code, "message": message}
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

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: int = 60,
        variant: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, variant=variant, params=params)
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


def _locale(request: Request) -> str:
    return i18n.negotiate(request.headers.get("accept-language"))


def _catalogue_message(key: str, locale: str, fallback: str, **params: object) -> str:
    return i18n.error_text(key, fallback, locale, **params)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    body = exc.body(_locale(request))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers())


def validation_message(error: Mapping[str, Any], locale: str) -> str:
    """One pydantic error in the reader's language, from the ``validation`` catalogue: by the
    text our own validators raise (``value_error``), else by pydantic's error type."""
    kind = str(error.get("type", ""))
    english = str(error.get("msg", "invalid"))
    if locale.startswith("en"):
        return english  # pydantic's own words, with their figures
    context = error.get("ctx") or {}
    keys = [english.removeprefix("Value error, ")] if kind == "value_error" else []
    for key in [*keys, kind]:
        template = i18n.gettext("validation", key, locale)
        if template is not None:
            return i18n.render(template, {k: str(v) for k, v in context.items()}, locale)
    return english


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    locale = _locale(request)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        message = _catalogue_message(
            "malformed_json", locale, "The request body is not valid JSON."
        )
        return _error(400, "malformed_json", message)
    fields = [
        # Never echo the rejected input back: it may be a national ID or a password.
        {"field": _field_name(e.get("loc", ())), "message": validation_message(e, locale)}
        for e in errors
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    message = _catalogue_message(
        "validation_error", locale, f"Invalid request: {summary}", summary=summary
    )
    return _error(422, "validation_error", message, fields=fields)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
    }
    code = codes.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 404 and message == "Not Found":
        message = _catalogue_message("not_found.route", _locale(request), "No such resource.")
    elif exc.status_code in (405, 413):
        message = _catalogue_message(code, _locale(request), message)
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=exc.status_code,
        headers=headers or None,
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path: a path served by several routes (GET
    here, POST there) would otherwise name only the first route's methods in ``Allow``."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def answer_as(
    to_domain: Callable[[Any], DomainError],
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """A handler for an exception a layer without HTTP raises (pricing's input errors): it
    answers as the domain error ``to_domain`` makes of it, so that mapping is written once and
    a caller that must name another field calls the same ``to_domain``."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return await _domain_error(request, to_domain(exc))

    return handler


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail
