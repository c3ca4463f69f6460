"""The OpenAPI document lists the answers every operation can really give.

Routes declare their domain errors (``shared.errors.error_responses``); the answers that come
from the layers every request passes through are added here once, from what the operation is:

- protected (it has a ``security`` requirement): 401 and 403;
- with a body: 400 ``malformed_json``, 413 ``payload_too_large`` and 422 ``validation_error``;
- with path or query parameters: 422 (a malformed or out-of-range value, a control character);
- with path parameters: 404 (no such object, or another tenant's);
- everything but the health checks: 503 (``overloaded``, ``database_busy``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from shared.errors import ErrorBody

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
UNQUEUED = frozenset({"/healthz", "/readyz"})

_ANSWERS = {
    "400": "malformed_json: the body is not valid JSON",
    "401": "not_authenticated, invalid_credentials",
    "403": "forbidden, organization_suspended: not this role's or tenant's",
    "404": "not_found: no such object (or another tenant's)",
    "413": "payload_too_large: the body is over the size limit",
    "422": "validation_error: an input is malformed or out of range",
    "503": "overloaded, database_busy: retry after `Retry-After` seconds",
}


def _add(operation: dict[str, Any], status: str) -> None:
    responses = operation.setdefault("responses", {})
    if status in responses:  # the route's own errors: name the shared ones beside them
        code = _ANSWERS[status].split(":", 1)[0]
        if code not in responses[status].get("description", ""):
            responses[status]["description"] += f"; {_ANSWERS[status]}"
        return
    responses[status] = {
        "description": _ANSWERS[status],
        "content": {"application/json": {"schema": ERROR_REF}},
    }


def _use_the_error_shape_for_validation(operation: dict[str, Any]) -> None:
    """FastAPI documents 422 as its own ``HTTPValidationError``; ours answers in the one error
    shape (``shared.errors``), and the document must say so."""
    answer = operation.get("responses", {}).get("422")
    content = (answer or {}).get("content", {}).get("application/json", {})
    if content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
        operation["responses"]["422"] = {
            "description": _ANSWERS["422"],
            "content": {"application/json": {"schema": ERROR_REF}},
        }


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the shared answers to every operation of ``schema`` (in place; also returned)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorBody" not in components:
        components["ErrorBody"] = ErrorBody.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        components.update(components["ErrorBody"].pop("$defs", {}))
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or method == "parameters":
                continue
            _use_the_error_shape_for_validation(operation)
            parameters = operation.get("parameters", [])
            if operation.get("security"):
                _add(operation, "401")
                _add(operation, "403")
            if "requestBody" in operation:
                for status in ("400", "413", "422"):
                    _add(operation, status)
            if parameters:
                _add(operation, "422")
            if any(p.get("in") == "path" for p in parameters):
                _add(operation, "404")
            if path not in UNQUEUED:
                _add(operation, "503")
    return schema


def install(app: FastAPI) -> None:
    """Serve the completed document at ``/openapi.json`` (and ``app.openapi()``)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 (FastAPI's documented override)
