"""Idempotency keys: replay, refusal of reuse and of overlap, and resuming after a crash.

The route below is a stand-in for a money-moving POST (servicing's repayment): phase 1 books
(an audit entry), Stripe is called outside any transaction, phase 2 stores the answer.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from autofin.main import create_app
from shared import audit
from shared.db import Database, SessionDep, utcnow
from shared.errors import Conflict
from shared.idempotency import (
    IdempotencyKey,
    IdempotencyKeyDep,
    IdempotentRun,
    RecoveryPoint,
    StoredResponse,
    request_fingerprint,
)
from shared.payments.gateway import PaymentGateway, PaymentGatewayDep
from shared.payments.gateway import PaymentIntent as Intent
from tests.stripe_fixtures import LocalStripe

BOOKED = "test.charge_booked"


class ChargeBody(BaseModel):
    amount: int
    refuse: bool = False


class SimulatedCrash(Exception):
    """The process dying between Stripe's answer and our storing it."""


router = APIRouter()


@router.post("/test/charges", status_code=201)
async def charge(
    body: ChargeBody,
    request: Request,
    idempotency_key: IdempotencyKeyDep,
    session: SessionDep,
    gateway: PaymentGatewayDep,
) -> JSONResponse:
    scope = "test:tenant"
    fingerprint = request_fingerprint("POST", "/test/charges", body)
    async with IdempotentRun.begin(
        session, scope=scope, key=idempotency_key, fingerprint=fingerprint
    ) as run:
        if run.response is None and run.recovery_point == "started":

            async def book(tx: AsyncSession) -> RecoveryPoint:
                if body.refuse:
                    raise Conflict("The loan is already paid off.", code="loan_paid_off")
                audit.record(
                    tx, actor="system", action=BOOKED, subject_type="key", subject_id=scope
                )
                return RecoveryPoint("booked", {"booking_id": scope})

            await run.phase(book)
        if run.response is None and run.recovery_point == "booked":
            intent = await gateway.create_payment_intent(
                amount=body.amount,
                idempotency_key=f"test-charge-{run.id}",  # from our ids: same on every retry
                metadata={"purpose": "idempotency_test", "marker": idempotency_key},
            )
            if request.app.state.crash_after_stripe:
                request.app.state.crash_after_stripe = False
                raise SimulatedCrash

            async def store(tx: AsyncSession) -> StoredResponse:
                booking = run.data["booking_id"]
                return StoredResponse(
                    201, {"payment_intent_id": intent.id, "amount": intent.amount, "b": booking}
                )

            await run.phase(store)
        assert run.response is not None
        return run.response.to_response(replayed=run.replayed)


class StripeLikeGateway(PaymentGateway):
    """localstripe plus what it lacks: Stripe's replay of an answer for a repeated key."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.answers: dict[str, Intent] = {}

    async def create_payment_intent(self, **kwargs: Any) -> Intent:
        key = kwargs["idempotency_key"]
        if key not in self.answers:
            self.answers[key] = await super().create_payment_intent(**kwargs)
        return self.answers[key]


@pytest.fixture
async def app(committed_database: Database, localstripe: LocalStripe) -> AsyncIterator[FastAPI]:
    gateway = StripeLikeGateway(
        api_key=localstripe.api_key,
        api_base=localstripe.base_url,
        webhook_secret=localstripe.webhook_secret,
    )
    application = create_app(committed_database, payment_gateway=gateway)
    application.state.crash_after_stripe = False
    application.include_router(router)
    yield application
    await gateway.aclose()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def bookings(database: Database) -> int:
    async with database.sessionmaker() as session:
        result = await session.execute(
            select(func.count())
            .select_from(audit.AuditEntry)
            .where(col(audit.AuditEntry.action) == BOOKED)
        )
        return int(result.scalar_one())


async def intents_for(localstripe: LocalStripe, key: str) -> list[dict[str, Any]]:
    return [
        i for i in await localstripe.list_payment_intents() if i["metadata"].get("marker") == key
    ]


async def test_a_retried_payment_replays_the_first_answer_and_creates_one_payment_intent(
    http: httpx.AsyncClient, committed_database: Database, localstripe: LocalStripe
) -> None:
    key = f"repay-{uuid.uuid4()}"
    first = await http.post(
        "/test/charges", json={"amount": 358_312}, headers={"Idempotency-Key": key}
    )
    retry = await http.post(
        "/test/charges", json={"amount": 358_312}, headers={"Idempotency-Key": key}
    )

    assert first.status_code == retry.status_code == 201, first.text
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(await intents_for(localstripe, key)) == 1
    assert await bookings(committed_database) == 1


async def test_a_payment_without_an_idempotency_key_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post("/test/charges", json={"amount": 100})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"


async def test_reusing_a_key_for_a_different_request_is_refused(http: httpx.AsyncClient) -> None:
    key = f"repay-{uuid.uuid4()}"
    await http.post("/test/charges", json={"amount": 100}, headers={"Idempotency-Key": key})
    reused = await http.post(
        "/test/charges", json={"amount": 999}, headers={"Idempotency-Key": key}
    )
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


async def test_a_request_still_in_flight_with_the_same_key_is_refused(
    http: httpx.AsyncClient, committed_database: Database
) -> None:
    key = f"repay-{uuid.uuid4()}"
    fingerprint = request_fingerprint("POST", "/test/charges", ChargeBody(amount=100))
    async with (
        committed_database.sessionmaker() as session,
        IdempotentRun.begin(session, scope="test:tenant", key=key, fingerprint=fingerprint),
    ):
        overlapping = await http.post(
            "/test/charges", json={"amount": 100}, headers={"Idempotency-Key": key}
        )
    assert overlapping.status_code == 409
    assert overlapping.json()["error"]["code"] == "idempotency_key_in_use"
    # The first run ended without finishing: its lock is released and a retry completes.
    retry = await http.post("/test/charges", json={"amount": 100}, headers={"Idempotency-Key": key})
    assert retry.status_code == 201


async def test_a_retry_after_a_crash_resumes_from_the_recovery_point(
    http: httpx.AsyncClient, app: FastAPI, committed_database: Database, localstripe: LocalStripe
) -> None:
    key = f"repay-{uuid.uuid4()}"
    app.state.crash_after_stripe = True
    crashed = await http.post(
        "/test/charges", json={"amount": 5_000}, headers={"Idempotency-Key": key}
    )
    assert crashed.status_code == 500
    assert await bookings(committed_database) == 1  # phase 1 committed before Stripe was called

    resumed = await http.post(
        "/test/charges", json={"amount": 5_000}, headers={"Idempotency-Key": key}
    )

    assert resumed.status_code == 201, resumed.text
    assert await bookings(committed_database) == 1  # not booked twice
    intents = await intents_for(localstripe, key)
    assert [i["id"] for i in intents] == [resumed.json()["payment_intent_id"]]


async def test_a_run_that_died_holding_its_lock_is_resumed_once_the_lock_times_out(
    http: httpx.AsyncClient, committed_database: Database
) -> None:
    key = f"repay-{uuid.uuid4()}"
    fingerprint = request_fingerprint("POST", "/test/charges", ChargeBody(amount=700))
    abandoned = IdempotentRun.begin(
        committed_database.sessionmaker(), scope="test:tenant", key=key, fingerprint=fingerprint
    )
    run = await abandoned.__aenter__()  # the process dies inside: the lock is never released

    async def book(session: AsyncSession) -> RecoveryPoint:
        audit.record(session, actor="system", action=BOOKED, subject_type="key", subject_id=key)
        return RecoveryPoint("booked", {"booking_id": 1})

    await run.phase(book)
    too_soon = await http.post(
        "/test/charges", json={"amount": 700}, headers={"Idempotency-Key": key}
    )
    assert too_soon.status_code == 409

    async with committed_database.sessionmaker() as session, session.begin():
        await session.execute(
            update(IdempotencyKey)
            .where(col(IdempotencyKey.key) == key)
            .values(locked_at=utcnow() - timedelta(minutes=5))
        )
    resumed = await http.post(
        "/test/charges", json={"amount": 700}, headers={"Idempotency-Key": key}
    )
    assert resumed.status_code == 201, resumed.text
    assert resumed.json()["b"] == 1  # the data phase 1 committed, carried to phase 2
    assert await bookings(committed_database) == 1


async def test_a_refusal_is_stored_and_replayed(http: httpx.AsyncClient) -> None:
    key = f"repay-{uuid.uuid4()}"
    body = {"amount": 100, "refuse": True}
    first = await http.post("/test/charges", json=body, headers={"Idempotency-Key": key})
    again = await http.post("/test/charges", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 409
    assert (
        again.json()
        == first.json()
        == {"error": {"code": "loan_paid_off", "message": "The loan is already paid off."}}
    )
