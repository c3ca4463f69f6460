"""The daily delinquency job and repayment webhooks under concurrency, on committed data."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import col

from autofin.jobs import run_daily_jobs
from autofin.main import create_app
from marketplace.servicing import repayments, repository
from marketplace.servicing.models import (
    Installment,
    LedgerEntry,
    Loan,
    LoanPayment,
    PaymentProfile,
)
from shared.db import Database
from shared.identity.principal import Principal
from shared.payments.gateway import PaymentGateway
from shared.settings import get_settings
from tests.servicing.conftest import (
    Booked,
    all_loans_reconcile,
    book,
    days_ago,
    signed,
    today,
)
from tests.stripe_fixtures import LocalStripe, stripe_event


@pytest.fixture
def committed_app(committed_database: Database) -> FastAPI:
    return create_app(committed_database)


@pytest.fixture
async def http(committed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=committed_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def book_committed(http: httpx.AsyncClient, database: Database, **options: object) -> Booked:
    async with database.sessionmaker() as session:
        return await book(http, session, **options)  # type: ignore[arg-type]


async def test_the_daily_job_run_twice_at_once_charges_each_late_fee_once(
    http: httpx.AsyncClient, committed_database: Database
) -> None:
    # ~100 days: instalments 1-3 are past their grace period.
    loans = [await book_committed(http, committed_database, loan_date=days_ago(100))]
    loans.append(await book_committed(http, committed_database, loan_date=days_ago(45)))

    async def run_once() -> dict[str, int]:
        async with committed_database.sessionmaker() as session, session.begin():
            return await run_daily_jobs(session, as_of=today(), progress=lambda _: None)

    results = await asyncio.gather(run_once(), run_once())
    again = await run_once()

    assert sum(r["late_fees_charged"] for r in results) == 4  # 3 on the first loan, 1 on the other
    assert again["late_fees_charged"] == 0
    async with committed_database.sessionmaker() as session:
        fees = await session.execute(
            select(col(LedgerEntry.loan_id), col(LedgerEntry.installment_n), func.count())
            .where(col(LedgerEntry.entry_type) == "late_fee")
            .group_by(col(LedgerEntry.loan_id), col(LedgerEntry.installment_n))
        )
        counts = [count for _, _, count in fees.all()]
        assert counts == [1, 1, 1, 1]
        late = await session.execute(
            select(func.count()).select_from(Installment).where(col(Installment.status) == "late")
        )
        assert late.scalar_one() == 4
        assert await all_loans_reconcile(session) == 2
    first = await http.get(f"/v1/buyer/loans/{loans[0].loan_id}", headers=loans[0].buyer)
    assert first.json()["bucket"] == "61-90"


async def test_a_loan_180_days_past_due_is_charged_off_once_and_counts_as_a_default(
    http: httpx.AsyncClient, committed_database: Database
) -> None:
    booked = await book_committed(
        http, committed_database, loan_date=days_ago(215), platform_guarantee=True
    )
    await book_committed(http, committed_database, loan_date=days_ago(5))  # a current loan

    async def run_once() -> dict[str, int]:
        async with committed_database.sessionmaker() as session, session.begin():
            return await run_daily_jobs(session, as_of=today(), progress=lambda _: None)

    results = await asyncio.gather(run_once(), run_once())
    assert sum(r["loans_charged_off"] for r in results) == 1

    loan = (await http.get(f"/v1/buyer/loans/{booked.loan_id}", headers=booked.buyer)).json()
    assert loan["status"] == "charged_off" and loan["balance"] == 0
    async with committed_database.sessionmaker() as session:
        entries = await repository.ledger_entries(session, booked.loan_id)
        charge_offs = [e for e in entries if e.entry_type == "charge_off"]
        assert len(charge_offs) == 1 and charge_offs[0].amount < 0
        assert await all_loans_reconcile(session) == 2
    portfolio = (await http.get("/v1/lender/portfolio", headers=booked.lender)).json()
    assert portfolio["count"] == 1 and portfolio["charged_off"] == 1
    assert Decimal(portfolio["default_rate"]) == 1  # this lender's only loan
    assert portfolio["platform_guarantee_exposure"] == 0  # written off, nothing outstanding


async def test_platform_guaranteed_exposure_is_the_outstanding_balance(
    http: httpx.AsyncClient, committed_database: Database
) -> None:
    booked = await book_committed(
        http, committed_database, loan_date=days_ago(40), platform_guarantee=True
    )
    async with committed_database.sessionmaker() as session, session.begin():
        await run_daily_jobs(session, as_of=today(), progress=lambda _: None)
    loan = (await http.get(f"/v1/buyer/loans/{booked.loan_id}", headers=booked.buyer)).json()
    portfolio = (await http.get("/v1/lender/portfolio", headers=booked.lender)).json()
    grade = portfolio["grades"][0]
    assert grade["count"] == 1 and grade["active"] == 1
    assert grade["buckets"]["1-30"] == 1
    assert grade["outstanding_balance"] == loan["balance"] > loan["principal"]
    assert grade["guaranteed_outstanding"] == portfolio["platform_guarantee_exposure"]
    assert portfolio["platform_guarantee_exposure"] == loan["balance"]


async def test_five_concurrent_succeeded_webhooks_credit_a_repayment_once(
    http: httpx.AsyncClient, committed_database: Database, localstripe: LocalStripe
) -> None:
    booked = await book_committed(http, committed_database, loan_date=days_ago(35))
    gateway = PaymentGateway.from_settings(get_settings())
    try:
        customer = await gateway.create_customer(idempotency_key=uuid.uuid4().hex, metadata={})
        card = await gateway.attach_payment_method(
            customer_id=customer.id,
            payment_method_id=await localstripe.create_card_payment_method(),
        )
        async with committed_database.sessionmaker() as session, session.begin():
            loan = await session.get(Loan, booked.loan_id)
            assert loan is not None
            session.add(
                PaymentProfile(
                    buyer_id=loan.buyer_id,
                    stripe_customer_id=customer.id,
                    payment_method_id=card.id,
                )
            )
            await session.flush()
            buyer = Principal(role="buyer", user_id=loan.buyer_id)
            payment, _ = await repayments.start_payment(
                session, buyer, loan.id, repayments.PaymentRequest(installments=1, payoff=False)
            )
            payment_id, amount = payment.id, payment.amount
        intent = await gateway.create_payment_intent(
            amount=amount,
            idempotency_key=f"loan-payment-{payment_id}",
            metadata={
                "purpose": "repayment",
                "loan_id": str(booked.loan_id),
                "payment_id": str(payment_id),
            },
            customer_id=customer.id,
            payment_method_id=card.id,
            confirm=True,
            off_session=True,
        )
    finally:
        await gateway.aclose()
    real = await localstripe.client().v1.payment_intents.retrieve_async(intent.id)
    # Five deliveries, each its own event (a resend, a replay from the dashboard …).
    deliveries = [
        signed(stripe_event("payment_intent.succeeded", real.to_dict()), localstripe.webhook_secret)
        for _ in range(5)
    ]
    responses = await asyncio.gather(
        *(
            http.post("/v1/stripe/webhook", content=payload, headers=headers)
            for payload, headers in deliveries
        )
    )

    assert [r.status_code for r in responses] == [200] * 5
    async with committed_database.sessionmaker() as session:
        credits = await session.execute(
            select(func.count())
            .select_from(LedgerEntry)
            .where(
                col(LedgerEntry.loan_id) == booked.loan_id,
                col(LedgerEntry.entry_type) == "payment",
            )
        )
        assert credits.scalar_one() == 1
        stored = await session.get(LoanPayment, payment_id)
        assert stored is not None and stored.status == "succeeded"
        assert stored.payment_intent_id == intent.id
        assert await all_loans_reconcile(session) == 1
    loan_view = (await http.get(f"/v1/buyer/loans/{booked.loan_id}", headers=booked.buyer)).json()
    assert [r["status"] for r in loan_view["schedule"][:2]] == ["paid", "due"]
