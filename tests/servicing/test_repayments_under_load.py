"""Twenty repayments of one loan at once, through two servers that share the database (each
with a pool of five, as two processes would), while localstripe delivers each payment's
webhook to one of them: no 5xx, no deadlock, every charge credited exactly once."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from autofin.main import create_app
from marketplace.servicing.models import LedgerEntry, LedgerEntryType, LoanPayment
from shared.audit import AuditEntry
from shared.db import Database
from shared.payments.models import StripeEventRecord
from tests.factories import admin_headers
from tests.load import pool_of
from tests.servers import serving
from tests.servicing.conftest import all_loans_reconcile, book, save_card
from tests.stripe_fixtures import LocalStripe

POOL = 5
REPAYMENTS = 20


async def _webhooks_received(database: Database, intent_ids: set[str]) -> int:
    async with database.sessionmaker() as session:
        rows = await session.execute(select(StripeEventRecord))
        return sum(
            1
            for record in rows.scalars()
            if record.type == "payment_intent.succeeded"
            and record.payload["data"]["object"]["id"] in intent_ids
        )


async def test_twenty_repayments_across_two_servers_credit_every_charge_once(
    committed_database: Database, localstripe: LocalStripe
) -> None:
    async with (
        pool_of(committed_database, POOL) as first_pool,
        pool_of(committed_database, POOL) as second_pool,
        serving(create_app(first_pool)) as first,
        serving(create_app(second_pool)) as second,
        httpx.AsyncClient(base_url=first) as setup,
    ):
        async with committed_database.sessionmaker() as session:
            booked = await book(setup, session, admin=await admin_headers(setup, session))
        await save_card(setup, booked.buyer, localstripe)
        hook = f"load-{uuid.uuid4().hex[:8]}"
        await localstripe.register_webhook(
            hook, f"{second}/v1/stripe/webhook", ["payment_intent.succeeded"]
        )
        try:
            async with httpx.AsyncClient(timeout=60) as http:
                answers = await asyncio.gather(
                    *(
                        http.post(
                            f"{(first, second)[n % 2]}/v1/buyer/loans/{booked.loan_id}/payments",
                            json={"installments": 1},
                            headers={**booked.buyer, "Idempotency-Key": f"repay-{n}"},
                        )
                        for n in range(REPAYMENTS)
                    )
                )
            charged = {a.json()["payment_intent_id"] for a in answers if a.status_code == 201}
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # localstripe posts each event after a second
                if await _webhooks_received(committed_database, charged) == len(charged):
                    break
                await asyncio.sleep(0.2)
        finally:
            await localstripe.register_webhook(hook, f"{second}/v1/stripe/webhook", events=[])

    statuses = [a.status_code for a in answers]
    assert all(s in (201, 409, 422) for s in statuses), [a.text for a in answers]
    assert statuses.count(201) >= 5, statuses
    assert {a.json()["status"] for a in answers if a.status_code == 201} == {"succeeded"}
    assert await _webhooks_received(committed_database, charged) == len(charged)

    stripe_charged = {
        intent["id"]: intent["amount"]
        for intent in await localstripe.list_payment_intents()
        if intent["metadata"].get("loan_id") == str(booked.loan_id)
        and intent["status"] == "succeeded"
    }
    assert set(stripe_charged) == charged
    async with committed_database.sessionmaker() as session:
        payments = (
            (
                await session.execute(
                    select(LoanPayment).where(col(LoanPayment.loan_id) == booked.loan_id)
                )
            )
            .scalars()
            .all()
        )
        credited = await session.execute(
            select(func.count()).where(col(AuditEntry.action) == "loan_payment.credited")
        )
        ledger_paid = await session.execute(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                col(LedgerEntry.loan_id) == booked.loan_id,
                col(LedgerEntry.entry_type) == LedgerEntryType.payment,
            )
        )
        assert await all_loans_reconcile(session) == 1
    assert {p.payment_intent_id: p.amount for p in payments if p.status == "succeeded"} == (
        stripe_charged
    )
    assert all(p.status != "processing" for p in payments)
    assert credited.scalar_one() == len(charged)
    assert -ledger_paid.scalar_one() == sum(stripe_charged.values())
