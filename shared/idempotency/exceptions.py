"""Refusals about the ``Idempotency-Key`` itself."""

from __future__ import annotations

from shared.errors import BadRequest, Conflict, Unprocessable


class IdempotencyKeyRequired(BadRequest):
    code = "idempotency_key_required"
    message = "This request needs an Idempotency-Key header (a unique value per operation)."


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used with a different request."


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    message = "A request with this Idempotency-Key is still in progress; retry shortly."
