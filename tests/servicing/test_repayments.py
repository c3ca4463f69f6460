"""Repaying a loan online: monthly instalments (one of them late), an early payoff, credited
once by the webhook, and the lender's view of it."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from autofin.jobs import run_daily_jobs
from marketplace.servicing import repository
from marketplace.servicing.models import LedgerEntry, LoanPayment
from tests.servicing.conftest import (
    BookLoan,
    all_loans_reconcile,
    days_ago,
    deliver,
    pay,
    save_card,
    succeeded_event_for,
    today,
)
from tests.stripe_fixtures import LocalStripe


async def get_loan(
    client: httpx.AsyncClient, buyer: dict[str, str], loan_id: uuid.UUID
) -> dict[str, Any]:
    response = await client.get(f"/v1/buyer/loans/{loan_id}", headers=buyer)
    assert response.status_code == 200, response.text
    loan: dict[str, Any] = response.json()
    return loan


async def test_three_monthly_payments_one_late_then_an_early_payoff(
    client: httpx.AsyncClient,
    session: AsyncSession,
    book_loan: BookLoan,
    localstripe: LocalStripe,
) -> None:
    # Booked 70 days ago: instalment 1 fell due ~40 days ago, 2 ~10 days ago, 3 is ahead.
    booked = await book_loan(loan_date=days_ago(70))
    buyer, loan_id = booked.buyer, booked.loan_id
    card = await save_card(client, buyer, localstripe)
    assert card.startswith("pm_")
    schedule = (await get_loan(client, buyer, loan_id))["schedule"]

    # 1st payment, before the daily job has seen anything: no fee.
    first = await pay(client, buyer, loan_id, {"installments": 1})
    assert first.status_code == 201, first.text
    assert first.json()["amount"] == schedule[0]["payment"]
    assert first.json()["status"] == "succeeded"
    event = await succeeded_event_for(localstripe, first.json()["payment_intent_id"])
    assert event["data"]["object"]["metadata"]["purpose"] == "repayment"
    delivered = await deliver(client, localstripe, event)
    assert delivered.status_code == 200 and delivered.json()["duplicate"] is False
    loan = await get_loan(client, buyer, loan_id)
    assert [r["status"] for r in loan["schedule"][:3]] == ["paid", "due", "due"]

    # The daily job, past instalment 2's grace period: late, a late fee, 1-30 days past due.
    done = await run_daily_jobs(session, as_of=today(), progress=lambda _: None)
    await session.commit()
    assert done["late_fees_charged"] == 1
    loan = await get_loan(client, buyer, loan_id)
    late = loan["schedule"][1]
    assert late["status"] == "late" and late["late_fee"] > 0
    assert loan["bucket"] == "1-30" and 4 <= loan["days_past_due"] <= 30

    # 2nd payment pays the late fee first, then the late instalment.
    second = await pay(client, buyer, loan_id, {"installments": 1})
    assert second.status_code == 201, second.text
    assert second.json()["amount"] == late["payment"] + late["late_fee"]
    loan = await get_loan(client, buyer, loan_id)
    assert loan["schedule"][1]["status"] == "paid"
    assert loan["schedule"][1]["late_fee_paid"] == late["late_fee"]
    assert loan["days_past_due"] == 0 and loan["bucket"] == "current"

    # 3rd payment: instalment 3, before it is due.
    third = await pay(client, buyer, loan_id, {"installments": 1})
    assert third.status_code == 201 and third.json()["amount"] == schedule[2]["payment"]
    loan = await get_loan(client, buyer, loan_id)
    assert [r["status"] for r in loan["schedule"][:4]] == ["paid", "paid", "paid", "due"]
    assert loan["outstanding_principal"] == sum(r["principal"] for r in schedule[3:])

    # Early payoff: the quoted amount closes the loan.
    quote = await client.get(
        f"/v1/buyer/loans/{loan_id}/payoff", params={"on": today().isoformat()}, headers=buyer
    )
    assert quote.status_code == 200
    assert quote.json()["principal"] == loan["outstanding_principal"]
    payoff = await pay(client, buyer, loan_id, {"payoff": True})
    assert payoff.status_code == 201, payoff.text
    assert payoff.json()["amount"] == quote.json()["amount"]
    loan = await get_loan(client, buyer, loan_id)
    assert loan["status"] == "paid_off"
    assert {r["status"] for r in loan["schedule"]} == {"paid"}
    assert loan["balance"] == 0 == await repository.ledger_balance(session, loan_id)
    types = [str(e.entry_type) for e in await repository.ledger_entries(session, loan_id)]
    assert types.count("payment") == 3 and types.count("payoff") == 1
    assert types.count("late_fee") == 1 and types[0] == "disbursement"

    # The webhooks for every payment arrive (late): nothing is credited twice.
    for response in (first, second, third, payoff):
        late_event = await succeeded_event_for(localstripe, response.json()["payment_intent_id"])
        assert (await deliver(client, localstripe, late_event)).status_code == 200
    assert await repository.ledger_balance(session, loan_id) == 0
    assert await all_loans_reconcile(session) >= 1

    # A paid-off loan takes no more payments.
    closed = await pay(client, buyer, loan_id, {"installments": 1})
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "loan_not_repayable"

    # The lender sees it, paid off, in its loans and portfolio.
    listed = (await client.get("/v1/lender/loans", headers=booked.lender)).json()
    assert [(i["id"], i["status"]) for i in listed["items"]] == [(str(loan_id), "paid_off")]
    portfolio = (await client.get("/v1/lender/portfolio", headers=booked.lender)).json()
    assert portfolio["count"] == 1 and portfolio["outstanding_balance"] == 0
    assert portfolio["grades"][0]["paid_off"] == 1
    assert Decimal(portfolio["default_rate"]) == 0


async def test_a_retried_payment_request_replays_and_charges_once(
    client: httpx.AsyncClient, session: AsyncSession, book_loan: BookLoan, localstripe: LocalStripe
) -> None:
    booked = await book_loan()
    await save_card(client, booked.buyer, localstripe)
    headers = {**booked.buyer, "Idempotency-Key": "pay-once"}
    path = f"/v1/buyer/loans/{booked.loan_id}/payments"

    first = await client.post(path, json={"installments": 2}, headers=headers)
    again = await client.post(path, json={"installments": 2}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    payments = await session.execute(
        select(func.count())
        .select_from(LoanPayment)
        .where(col(LoanPayment.loan_id) == booked.loan_id)
    )
    assert payments.scalar_one() == 1
    loan = await get_loan(client, booked.buyer, booked.loan_id)
    assert [r["status"] for r in loan["schedule"][:3]] == ["paid", "paid", "due"]


async def test_refused_repayments(
    client: httpx.AsyncClient, session: AsyncSession, book_loan: BookLoan, localstripe: LocalStripe
) -> None:
    booked = await book_loan()
    buyer, loan_id = booked.buyer, booked.loan_id

    no_card = await pay(client, buyer, loan_id, {"installments": 1})
    assert no_card.status_code == 409
    assert no_card.json()["error"]["code"] == "no_payment_method"

    await save_card(client, buyer, localstripe)
    beyond = await pay(client, buyer, loan_id, {"installments": 13})
    assert beyond.status_code == 422
    assert beyond.json()["error"]["code"] == "too_many_installments"
    everything = await pay(client, buyer, loan_id, {"installments": 12})
    assert everything.status_code == 422
    assert everything.json()["error"]["code"] == "amount_exceeds_payoff"
    for body in ({}, {"installments": 1, "payoff": True}, {"payoff": False}, {"amount": 1}):
        invalid = await pay(client, buyer, loan_id, body)
        assert invalid.status_code == 422, body
    missing_key = await client.post(
        f"/v1/buyer/loans/{loan_id}/payments", json={"installments": 1}, headers=buyer
    )
    assert missing_key.status_code == 400
    unknown = await pay(client, buyer, uuid.uuid4(), {"installments": 1})
    assert unknown.status_code == 404
    bad_card = await client.post(
        "/v1/buyer/payment-methods", json={"payment_method": "card_123"}, headers=buyer
    )
    assert bad_card.status_code == 422
    refused_card = await client.post(
        "/v1/buyer/payment-methods", json={"payment_method": "pm_never_issued"}, headers=buyer
    )
    assert refused_card.status_code == 422, refused_card.text
    assert refused_card.json()["error"]["code"] == "payment_method_rejected"
    assert refused_card.json()["error"]["field"] == "payment_method"
    entries = await session.execute(
        select(func.count()).select_from(LedgerEntry).where(col(LedgerEntry.loan_id) == loan_id)
    )
    assert entries.scalar_one() == 1  # the disbursement only


async def test_a_declined_card_fails_the_payment_and_credits_nothing(
    client: httpx.AsyncClient, session: AsyncSession, book_loan: BookLoan, localstripe: LocalStripe
) -> None:
    booked = await book_loan()
    card = await localstripe.create_card_payment_method("4000000000000341")
    saved = await client.post(
        "/v1/buyer/payment-methods", json={"payment_method": card}, headers=booked.buyer
    )
    assert saved.status_code == 201 and saved.json()["card_last4"] == "0341"
    assert "4000000000000341" not in saved.text

    declined = await pay(client, booked.buyer, booked.loan_id, {"installments": 1})

    assert declined.status_code == 402
    assert declined.json()["error"]["code"] == "payment_declined"
    payment = (
        await session.execute(select(LoanPayment).where(col(LoanPayment.loan_id) == booked.loan_id))
    ).scalar_one()
    assert payment.status == "failed"
    loan = await get_loan(client, booked.buyer, booked.loan_id)
    assert loan["schedule"][0]["status"] == "due"
    assert await repository.ledger_balance(session, booked.loan_id) == loan["principal"]
    # Nothing is left in flight: a payoff may be asked for at once.
    await save_card(client, booked.buyer, localstripe)
    assert (await pay(client, booked.buyer, booked.loan_id, {"payoff": True})).status_code == 201
