"""The ``Idempotency-Key`` header, and what identifies a request and its tenant."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Header
from pydantic import BaseModel

from shared.idempotency.exceptions import IdempotencyKeyRequired
from shared.idempotency.models import IDEMPOTENCY_HEADER, MAX_KEY_LENGTH
from shared.identity.principal import Principal


def request_fingerprint(method: str, path: str, body: BaseModel | Mapping[str, Any] | None) -> str:
    """A stable hash of what the request asks for, to tell a retry from a different request."""
    if isinstance(body, BaseModel):
        payload: Any = body.model_dump(mode="json")
    else:
        payload = dict(body) if body is not None else None
    canonical = json.dumps(
        [method.upper(), path, payload], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_scope(principal: Principal) -> str:
    """Keys are per tenant: an organisation's staff and API keys share one key space."""
    if principal.organization_id is not None:
        return f"org:{principal.organization_id}"
    return f"user:{principal.user_id}"


def _idempotency_key_header(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            description="A unique value per operation; a retry with the same value is replayed.",
        ),
    ] = None,
) -> str:
    if idempotency_key is None or not idempotency_key.strip():
        raise IdempotencyKeyRequired()
    value = idempotency_key.strip()
    if len(value) > MAX_KEY_LENGTH or not value.isprintable():
        raise IdempotencyKeyRequired(variant="malformed", params={"max_length": MAX_KEY_LENGTH})
    return value


IdempotencyKeyDep = Annotated[str, Depends(_idempotency_key_header)]
"""The request's ``Idempotency-Key`` header, required (400 ``idempotency_key_required``)."""
