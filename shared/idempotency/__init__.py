"""Idempotency keys and atomic phases: how a request that moves money or consumes credit runs.

This is the one explanation of atomic phases; the flows that use them (``dealer_portal.handover``,
``marketplace.servicing.repayments``, the reconciliations) refer here.

**Keys.** Modelled on Brandur Leach's "Implementing Stripe-like Idempotency Keys in Postgres":
one row per ``(scope, key)`` — the scope is the tenant — holding a hash of the request, a lock
(``locked_at``), a ``recovery_point`` naming the last phase that committed, the data later
phases need, and once finished the answer to replay.

- same key, same request, finished    → the stored answer is replayed (``Idempotent-Replayed``)
- same key, different request         → 422 ``idempotency_key_reused``
- same key while another is in flight → 409 ``idempotency_key_in_use``
- a run that failed, or died (its lock older than the timeout) → the next retry resumes at its
  recovery point; nothing committed before it is done twice

**Phases.** A flow that calls Stripe (or anything outside the database) never holds a
transaction, a lock or a connection while it waits. It runs as phases on the request's own
session, one transaction after another: each phase commits its work together with the new
recovery point, and the outside call happens between two phases with an idempotency key made
from our own ids (``deal-{id}-down-payment``), so a retry that repeats the call gets Stripe's
first answer back rather than a second charge::

    async with IdempotentRun.begin(session, scope=..., key=..., fingerprint=...) as run:
        if run.response is None and run.recovery_point == STARTED:
            async def book(tx: AsyncSession) -> RecoveryPoint:
                deal = await confirm_and_book(tx, dealer, deal_id, body, utcnow())
                return RecoveryPoint("booked", {"amount": deal.down_payment_amount})
            await run.phase(book)
        if run.response is None and run.recovery_point == "booked":
            intent = await gateway.create_payment_intent(   # no transaction open here
                amount=run.data["amount"], idempotency_key=f"deal-{deal_id}-down-payment", ...)
            async def store(tx: AsyncSession) -> StoredResponse:
                await store_down_payment(tx, deal_id, intent.id, utcnow())
                return StoredResponse(200, {...})
            await run.phase(store)
        return run.response, run.replayed

A phase that loses a deadlock is run again. If a phase raises a ``DomainError`` below 500 the
refusal is stored and replayed (a decided outcome); any other failure releases the lock so the
client's retry resumes at once.
"""

from __future__ import annotations

from shared.idempotency.exceptions import (
    IdempotencyKeyInUse,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
)
from shared.idempotency.http import IdempotencyKeyDep, idempotency_scope, request_fingerprint
from shared.idempotency.models import (
    FINISHED,
    IDEMPOTENCY_HEADER,
    STARTED,
    IdempotencyKey,
    RecoveryPoint,
    StoredResponse,
)
from shared.idempotency.repository import (
    ClaimedKey,
    finish_abandoned,
    is_held,
    purge_expired_keys,
)
from shared.idempotency.run import IdempotentRun, Phase

__all__ = [
    "FINISHED",
    "IDEMPOTENCY_HEADER",
    "STARTED",
    "ClaimedKey",
    "IdempotencyKey",
    "IdempotencyKeyDep",
    "IdempotencyKeyInUse",
    "IdempotencyKeyRequired",
    "IdempotencyKeyReused",
    "IdempotentRun",
    "Phase",
    "RecoveryPoint",
    "StoredResponse",
    "finish_abandoned",
    "idempotency_scope",
    "is_held",
    "purge_expired_keys",
    "request_fingerprint",
]
