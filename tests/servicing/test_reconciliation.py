"""Repayments left ``processing`` are settled by the daily reconciliation from Stripe's record:
credited once when the intent succeeded without a webhook, abandoned after a day when Stripe
never answered, so they stop blocking the payoff."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from autofin.jobs import run_reconciliation
from autofin.main import create_app
from marketplace.servicing.models import LedgerEntry, LoanPayment
from shared.audit import AuditEntry
from shared.db import Database, utcnow
from shared.payments.gateway import PaymentGateway, PaymentIntent
from tests.factories import admin_headers
from tests.servicing.conftest import (
    Booked,
    all_loans_reconcile,
    book,
    deliver,
    save_card,
    succeeded_event_for,
)
from tests.stripe_fixtures import LocalStripe


class UnluckyGateway(PaymentGateway):
    """localstripe, where the next payment can be answered ``processing`` (Stripe settles some
    payments later, by webhook) or never reach Stripe because the process died first."""

    def __init__(self, localstripe: LocalStripe) -> None:
        super().__init__(
            api_key=localstripe.api_key,
            api_base=localstripe.base_url,
            webhook_secret=localstripe.webhook_secret,
        )
        self.created = 0
        self.answer_processing = False
        self.die_before_stripe = False
        self.die_before_confirm = False

    async def create_payment_intent(self, **kwargs: Any) -> PaymentIntent:
        if self.die_before_stripe:
            self.die_before_stripe = False
            raise ConnectionResetError("the process died before Stripe answered")
        intent = await super().create_payment_intent(**kwargs)
        self.created += 1
        return intent

    async def confirm_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str
    ) -> PaymentIntent:
        if self.die_before_confirm:
            self.die_before_confirm = False
            raise ConnectionResetError("the process died before asking Stripe to charge")
        intent = await super().confirm_payment_intent(
            payment_intent_id, idempotency_key=idempotency_key
        )
        if self.answer_processing:
            self.answer_processing = False
            return dataclasses.replace(intent, status="processing")
        return intent


@pytest.fixture
async def gateway(localstripe: LocalStripe) -> AsyncIterator[UnluckyGateway]:
    unlucky = UnluckyGateway(localstripe)
    yield unlucky
    await unlucky.aclose()


@pytest.fixture
async def committed_client(
    committed_database: Database, gateway: UnluckyGateway
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(committed_database, payment_gateway=gateway)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def booked_with_card(
    client: httpx.AsyncClient, database: Database, localstripe: LocalStripe
) -> Booked:
    async with database.sessionmaker() as session:
        admin = await admin_headers(client, session)
        booked = await book(client, session, admin=admin)
    await save_card(client, booked.buyer, localstripe)
    return booked


async def backdate_payments(database: Database, loan_id: uuid.UUID, age: timedelta) -> None:
    async with database.sessionmaker() as session, session.begin():
        await session.execute(
            update(LoanPayment)
            .where(col(LoanPayment.loan_id) == loan_id)
            .values(created_at=utcnow() - age)
        )


async def payments_of(database: Database, loan_id: uuid.UUID) -> list[LoanPayment]:
    async with database.sessionmaker() as session:
        rows = await session.execute(
            select(LoanPayment)
            .where(col(LoanPayment.loan_id) == loan_id)
            .order_by(col(LoanPayment.created_at))
        )
        return list(rows.scalars().all())


async def count(database: Database, model: Any, *where: Any) -> int:
    async with database.sessionmaker() as session:
        result = await session.execute(select(func.count()).select_from(model).where(*where))
        return int(result.scalar_one())


async def loan_view(client: httpx.AsyncClient, booked: Booked) -> dict[str, Any]:
    response = await client.get(f"/v1/buyer/loans/{booked.loan_id}", headers=booked.buyer)
    assert response.status_code == 200, response.text
    loan: dict[str, Any] = response.json()
    return loan


async def test_a_succeeded_repayment_whose_webhook_never_came_is_credited_once(
    committed_client: httpx.AsyncClient,
    committed_database: Database,
    gateway: UnluckyGateway,
    localstripe: LocalStripe,
) -> None:
    booked = await booked_with_card(committed_client, committed_database, localstripe)
    gateway.answer_processing = True
    paid = await committed_client.post(
        f"/v1/buyer/loans/{booked.loan_id}/payments",
        json={"installments": 1},
        headers={**booked.buyer, "Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 201 and paid.json()["status"] == "processing", paid.text

    # Younger than the threshold: still the webhook's to settle.
    early = await run_reconciliation(committed_database, gateway, progress=print)
    await backdate_payments(committed_database, booked.loan_id, timedelta(minutes=20))
    runs = await asyncio.gather(
        *(run_reconciliation(committed_database, gateway, progress=print) for _ in range(2))
    )
    # The webhook arrives at last: it credits nothing more.
    late = await deliver(
        committed_client,
        localstripe,
        await succeeded_event_for(localstripe, paid.json()["payment_intent_id"]),
    )

    assert early["payments_credited"] == 0
    assert sum(run["payments_credited"] for run in runs) == 1
    assert late.status_code == 200, late.text
    [payment] = await payments_of(committed_database, booked.loan_id)
    assert payment.status == "succeeded"
    credited = col(AuditEntry.action) == "loan_payment.credited"
    assert await count(committed_database, AuditEntry, credited) == 1
    paid_lines = col(LedgerEntry.payment_id) == payment.id
    assert await count(committed_database, LedgerEntry, paid_lines) == 1
    assert [r["status"] for r in (await loan_view(committed_client, booked))["schedule"][:2]] == [
        "paid",
        "due",
    ]
    async with committed_database.sessionmaker() as session:
        assert await all_loans_reconcile(session) == 1


async def test_a_repayment_stripe_never_answered_is_abandoned_and_frees_the_payoff(
    committed_client: httpx.AsyncClient,
    committed_database: Database,
    gateway: UnluckyGateway,
    localstripe: LocalStripe,
) -> None:
    booked = await booked_with_card(committed_client, committed_database, localstripe)
    path = f"/v1/buyer/loans/{booked.loan_id}/payments"
    gateway.die_before_stripe = True
    crashed = await committed_client.post(
        path, json={"installments": 1}, headers={**booked.buyer, "Idempotency-Key": "pay-lost"}
    )
    assert crashed.status_code == 500
    blocked = await committed_client.post(
        path, json={"payoff": True}, headers={**booked.buyer, "Idempotency-Key": "payoff-1"}
    )
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "payment_in_progress"

    # Within a couple of minutes, the client's retry may still finish it: left alone.
    early = await run_reconciliation(committed_database, gateway, progress=print)
    await backdate_payments(committed_database, booked.loan_id, timedelta(hours=25))
    runs = await asyncio.gather(
        *(run_reconciliation(committed_database, gateway, progress=print) for _ in range(2))
    )

    assert early["payments_abandoned"] == 0
    assert sum(run["payments_abandoned"] for run in runs) == 1
    [abandoned] = await payments_of(committed_database, booked.loan_id)
    assert abandoned.status == "failed" and abandoned.failure_code == "abandoned"
    # A late retry of the lost request is told so, and never reaches Stripe.
    retried = await committed_client.post(
        path, json={"installments": 1}, headers={**booked.buyer, "Idempotency-Key": "pay-lost"}
    )
    assert retried.status_code == 409 and retried.json()["error"]["code"] == "payment_abandoned"
    assert gateway.created == 0
    payoff = await committed_client.post(
        path, json={"payoff": True}, headers={**booked.buyer, "Idempotency-Key": "payoff-2"}
    )
    assert payoff.status_code == 201 and payoff.json()["status"] == "succeeded", payoff.text
    assert (await loan_view(committed_client, booked))["status"] == "paid_off"


async def test_an_intent_nobody_confirmed_is_cancelled_at_stripe_and_its_payment_failed(
    committed_client: httpx.AsyncClient,
    committed_database: Database,
    gateway: UnluckyGateway,
    localstripe: LocalStripe,
) -> None:
    booked = await booked_with_card(committed_client, committed_database, localstripe)
    path = f"/v1/buyer/loans/{booked.loan_id}/payments"
    gateway.die_before_confirm = True
    crashed = await committed_client.post(
        path, json={"installments": 1}, headers={**booked.buyer, "Idempotency-Key": "pay-half"}
    )
    assert crashed.status_code == 500
    [stalled] = await payments_of(committed_database, booked.loan_id)
    assert stalled.status == "processing" and stalled.payment_intent_id is not None

    await backdate_payments(committed_database, booked.loan_id, timedelta(minutes=5))
    runs = await asyncio.gather(
        *(run_reconciliation(committed_database, gateway, progress=print) for _ in range(2))
    )
    retried = await committed_client.post(
        path, json={"installments": 1}, headers={**booked.buyer, "Idempotency-Key": "pay-half"}
    )

    assert sum(run["payments_failed"] for run in runs) == 1
    [failed] = await payments_of(committed_database, booked.loan_id)
    assert failed.status == "failed" and failed.failure_code == "canceled"
    intent = await localstripe.client().v1.payment_intents.retrieve_async(
        str(stalled.payment_intent_id)
    )
    assert intent.status == "canceled"  # nobody can charge it now
    assert retried.status_code == 409 and retried.json()["error"]["code"] == "payment_abandoned"
    async with committed_database.sessionmaker() as session:
        assert await all_loans_reconcile(session) == 1
