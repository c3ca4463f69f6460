"""Requests generated from the app's own /openapi.json with schemathesis: every operation the
document lists, so routes added later are attacked without anyone listing them."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core import NotSet
from schemathesis.schemas import APIOperation

from tests.security.declarations import SKIPPED

QUIET = settings(
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@dataclass(frozen=True)
class Operation:
    method: str  # lower case, as in the document
    path: str
    spec: dict[str, Any]
    api: APIOperation

    @property
    def protected(self) -> bool:
        return bool(self.spec.get("security"))

    @property
    def path_parameters(self) -> list[str]:
        return [p["name"] for p in self.spec.get("parameters", []) if p.get("in") == "path"]

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


@cache
def _schema(document: str) -> Any:
    return schemathesis.openapi.from_dict(json.loads(document))


def operations(app: FastAPI) -> list[Operation]:
    """Every operation of the app's document but those ``SKIPPED`` with a reason."""
    document = app.openapi()
    schema = _schema(json.dumps(document, sort_keys=True))
    found = []
    for path, item in sorted(document["paths"].items()):
        for method, spec in sorted(item.items()):
            if (method, path) in SKIPPED:
                continue
            found.append(Operation(method, path, spec, schema[path][method.upper()]))
    return found


_minimal: dict[tuple[str, str, int], Any] = {}


def minimal_case(operation: Operation) -> Any:
    """A simple schema-valid request for the operation: hypothesis' first, simplest draw
    (deterministic; ``find`` would shrink to the same kind of request far more slowly)."""
    key = (operation.method, operation.path, hash(json.dumps(operation.spec, sort_keys=True)))
    if key not in _minimal:
        _minimal[key] = cases(operation, 1)[0]
    return _minimal[key]


def cases(operation: Operation, count: int, mode: str = "positive") -> list[Any]:
    """``count`` varied generated requests for the operation (hypothesis, no shrinking)."""
    drawn: list[Any] = []
    strategy = operation.api.as_strategy(generation_mode=schemathesis.GenerationMode(mode))

    @settings(QUIET, max_examples=count, phases=[Phase.generate])
    @given(strategy)
    def collect(case: Any) -> None:
        drawn.append(case)

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid: no inputs
        collect()
    return drawn


def request_kwargs(case: Any, headers: dict[str, str]) -> dict[str, Any]:
    """httpx arguments for a generated case, sent with ``headers`` (the caller's)."""
    merged = {str(k): str(v) for k, v in (case.headers or {}).items()}
    merged.pop("Authorization", None)
    merged.setdefault("Idempotency-Key", f"attack-{uuid.uuid4()}")
    kwargs: dict[str, Any] = {"headers": {**merged, **headers}, "params": case.query or None}
    body = case.body
    if body is not None and not isinstance(body, NotSet):
        if isinstance(body, bytes | str):  # negative cases: raw bytes, any media type
            kwargs["content"] = body
            kwargs["headers"].setdefault("Content-Type", case.media_type or "application/json")
        elif case.media_type == "application/x-www-form-urlencoded" and isinstance(body, dict):
            kwargs["data"] = body
        else:
            kwargs["json"] = body
    return kwargs


def url(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def walk(value: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """Every (mapping, key) in a JSON value, depth first."""
    if isinstance(value, dict):
        for key in list(value):
            yield value, key
            yield from walk(value[key])
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
