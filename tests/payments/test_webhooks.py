"""The Stripe webhook: verified on the raw body, stored once, applied once."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autofin.main import create_app
from shared.db import Database
from shared.payments.gateway import PaymentGateway
from shared.payments.models import StripeEventRecord
from shared.payments.webhooks import StripeEvent, webhook_handlers
from tests.payments.conftest import TEST_PURPOSE, count_applied
from tests.servers import serving
from tests.stripe_fixtures import LocalStripe, dump, stripe_event, stripe_signature

pytestmark = pytest.mark.usefixtures("counting_handler")


def succeeded_event(*, purpose: str = TEST_PURPOSE) -> dict[str, Any]:
    intent = {
        "id": f"pi_{uuid.uuid4().hex[:14]}",
        "object": "payment_intent",
        "amount": 500_000,
        "currency": "cny",
        "status": "succeeded",
        "metadata": {"purpose": purpose},
    }
    return stripe_event("payment_intent.succeeded", intent)


def signed(event: dict[str, Any], secret: str, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
    payload = dump(event)
    return payload, {
        "Stripe-Signature": stripe_signature(payload, secret, **kwargs),
        "Content-Type": "application/json",
    }


async def stored_events(session: AsyncSession) -> int:
    result = await session.execute(select(func.count()).select_from(StripeEventRecord))
    return int(result.scalar_one())


async def test_a_signed_event_is_stored_and_applied_once(
    client: httpx.AsyncClient, session: AsyncSession, localstripe: LocalStripe
) -> None:
    event = succeeded_event()
    payload, headers = signed(event, localstripe.webhook_secret)

    first = await client.post("/v1/stripe/webhook", content=payload, headers=headers)
    again = await client.post("/v1/stripe/webhook", content=payload, headers=headers)

    assert first.status_code == 200, first.text
    assert first.json() == {"received": True, "duplicate": False}
    assert again.json() == {"received": True, "duplicate": True}
    assert await count_applied(session, event["id"]) == 1
    record = await session.get(StripeEventRecord, event["id"])
    assert record is not None and record.processed_at is not None
    assert record.payload["data"]["object"]["metadata"]["purpose"] == TEST_PURPOSE


@pytest.mark.parametrize(
    "tamper",
    ["wrong_secret", "stale_timestamp", "missing_header", "edited_body"],
)
async def test_an_unverifiable_event_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, session: AsyncSession, localstripe: LocalStripe, tamper: str
) -> None:
    event = succeeded_event()
    payload, headers = signed(event, localstripe.webhook_secret)
    if tamper == "wrong_secret":
        payload, headers = signed(event, "whsec_someone_else")
    elif tamper == "stale_timestamp":  # signed correctly, but 301 s ago: a replay
        payload, headers = signed(
            event, localstripe.webhook_secret, timestamp=int(time.time()) - 301
        )
    elif tamper == "missing_header":
        del headers["Stripe-Signature"]
    else:
        payload = payload.replace(b"500000", b"900000")
    before = await stored_events(session)

    response = await client.post("/v1/stripe/webhook", content=payload, headers=headers)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert await stored_events(session) == before
    assert await count_applied(session, event["id"]) == 0


async def test_an_unknown_event_type_is_stored_and_acknowledged(
    client: httpx.AsyncClient, session: AsyncSession, localstripe: LocalStripe
) -> None:
    event = stripe_event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"})
    payload, headers = signed(event, localstripe.webhook_secret)

    response = await client.post("/v1/stripe/webhook", content=payload, headers=headers)

    assert response.status_code == 200
    record = await session.get(StripeEventRecord, event["id"])
    assert record is not None and record.type == "customer.tax_id.created"
    assert record.processed_at is None  # stored for a handler that may come later


async def test_a_handler_failure_leaves_the_event_unstored_so_stripes_retry_applies_it(
    client: httpx.AsyncClient, session: AsyncSession, localstripe: LocalStripe
) -> None:
    attempts: list[str] = []

    async def flaky(db_session: AsyncSession, event: StripeEvent) -> None:
        attempts.append(event.id)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")

    webhook_handlers.register("payment_intent.succeeded", flaky, purpose="flaky")
    try:
        event = succeeded_event(purpose="flaky")
        payload, headers = signed(event, localstripe.webhook_secret)
        failed = await client.post("/v1/stripe/webhook", content=payload, headers=headers)
        assert failed.status_code == 500
        assert await session.get(StripeEventRecord, event["id"]) is None

        retried = await client.post("/v1/stripe/webhook", content=payload, headers=headers)
        assert retried.status_code == 200 and retried.json()["duplicate"] is False
        assert attempts == [event["id"], event["id"]]
    finally:
        webhook_handlers.unregister("payment_intent.succeeded", purpose="flaky")


async def test_five_concurrent_duplicate_deliveries_in_any_order_have_one_effect(
    committed_database: Database, localstripe: LocalStripe
) -> None:
    app = create_app(committed_database)
    events = [succeeded_event(), succeeded_event()]
    deliveries = [signed(event, localstripe.webhook_secret) for event in events for _ in range(5)]
    random.Random(7).shuffle(deliveries)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        responses = await asyncio.gather(
            *(
                http.post("/v1/stripe/webhook", content=payload, headers=headers)
                for payload, headers in deliveries
            )
        )
    await app.state.payment_gateway.aclose()

    assert [r.status_code for r in responses] == [200] * 10
    assert sum(not r.json()["duplicate"] for r in responses) == 2
    async with committed_database.sessionmaker() as session:
        for event in events:
            assert await count_applied(session, event["id"]) == 1
        assert await stored_events(session) == 2


@pytest.fixture
async def served_app(committed_database: Database) -> AsyncIterator[str]:
    """Our app behind a real uvicorn on 127.0.0.1 (a free port), on the committed database."""
    async with serving(create_app(committed_database)) as url:
        yield url


async def test_localstripe_delivers_a_payment_that_our_server_applies(
    served_app: str,
    committed_database: Database,
    gateway: PaymentGateway,
    localstripe: LocalStripe,
) -> None:
    hook = f"autofin-{uuid.uuid4().hex[:8]}"
    await localstripe.register_webhook(
        hook, f"{served_app}/v1/stripe/webhook", events=["payment_intent.succeeded"]
    )
    try:
        customer = await gateway.create_customer(idempotency_key=f"{hook}-c", metadata={})
        card = await gateway.attach_payment_method(
            customer_id=customer.id,
            payment_method_id=await localstripe.create_card_payment_method(),
        )
        intent = await gateway.create_payment_intent(
            amount=120_000,
            idempotency_key=f"{hook}-payment",
            metadata={"purpose": TEST_PURPOSE},
            customer_id=customer.id,
            payment_method_id=card.id,
            confirm=True,
            off_session=True,
        )
        assert intent.succeeded

        # localstripe waits a second, then signs and posts the event to our server.
        record = None
        deadline = time.monotonic() + 10
        while record is None and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            async with committed_database.sessionmaker() as session:
                rows = await session.execute(select(StripeEventRecord))
                record = next(
                    (r for r in rows.scalars() if r.payload["data"]["object"]["id"] == intent.id),
                    None,
                )
        assert record is not None, "localstripe's webhook never arrived"
        async with committed_database.sessionmaker() as session:
            assert await count_applied(session, record.id) == 1
        assert record.processed_at is not None
    finally:
        # Stop deliveries to a server that is about to go away.
        await localstripe.register_webhook(hook, f"{served_app}/v1/stripe/webhook", events=[])
