"""Booked loans as buyers and lenders see them: the schedule, tenancy, funding, payoff quotes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing import service
from marketplace.servicing.models import Loan, LoanStatus
from pricing import due_dates
from shared.identity.principal import Principal
from tests.factories import Headers, buyer_headers, lender_with_product
from tests.servicing.conftest import TERM, BookLoan, all_loans_reconcile, pay, save_card, today
from tests.stripe_fixtures import LocalStripe


async def test_a_booked_loans_schedule_is_the_calculators_schedule_for_the_same_terms(
    client: httpx.AsyncClient, session: AsyncSession, book_loan: BookLoan
) -> None:
    booked = await book_loan(upfront_fee=50_000)
    response = await client.get(f"/v1/buyer/loans/{booked.loan_id}", headers=booked.buyer)
    assert response.status_code == 200, response.text
    loan = response.json()

    calculator = await client.post(
        "/v1/calculator",
        json={
            "principal": loan["principal"],
            "annual_rate": loan["annual_rate"],
            "term_months": TERM,
            "method": loan["method"],
            "upfront_fee": 50_000,
        },
    )
    assert calculator.status_code == 200, calculator.text
    quote = calculator.json()
    fields = ("n", "payment", "principal", "interest")
    assert [{f: r[f] for f in fields} for r in loan["schedule"]] == [
        {f: r[f] for f in fields} for r in quote["schedule"]
    ]
    assert loan["monthly_payment"] == quote["monthly_payment"]
    assert loan["apr"] == quote["apr"]
    assert [r["due_date"] for r in loan["schedule"]] == [
        d.isoformat() for d in due_dates(today(), TERM)
    ]
    assert {r["status"] for r in loan["schedule"]} == {"due"}
    assert loan["status"] == "active" and loan["days_past_due"] == 0
    assert loan["bucket"] == "current"
    assert loan["outstanding_principal"] == loan["principal"] == loan["balance"]
    assert loan["lender"]["name"] and loan["dealer"]["name"]
    assert await all_loans_reconcile(session) >= 1


async def test_buyers_see_only_their_own_loans(
    client: httpx.AsyncClient, book_loan: BookLoan, localstripe: LocalStripe
) -> None:
    booked = await book_loan()
    other = await buyer_headers(client)
    await save_card(client, other, localstripe)

    mine = await client.get("/v1/buyer/loans", headers=booked.buyer)
    assert [item["id"] for item in mine.json()["items"]] == [str(booked.loan_id)]
    assert (await client.get("/v1/buyer/loans", headers=other)).json()["total"] == 0
    for path in ("", "/payoff"):
        response = await client.get(f"/v1/buyer/loans/{booked.loan_id}{path}", headers=other)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "loan_not_found"
    paid = await pay(client, other, booked.loan_id, {"installments": 1})
    assert paid.status_code == 404


async def test_lenders_see_and_fund_only_loans_on_their_own_products(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, book_loan: BookLoan
) -> None:
    booked = await book_loan(activate=False, auto_fund=False)
    _, other_lender, _ = await lender_with_product(client, admin)

    listed = await client.get("/v1/lender/loans", headers=booked.lender)
    assert [item["id"] for item in listed.json()["items"]] == [str(booked.loan_id)]
    assert listed.json()["items"][0]["status"] == "pending_funding"
    assert (await client.get("/v1/lender/loans", headers=other_lender)).json()["total"] == 0
    refused = await client.post(f"/v1/lender/loans/{booked.loan_id}/fund", headers=other_lender)
    assert refused.status_code == 404

    # Booked with no deal behind it: nothing the funding gates ask for has happened.
    refused = await client.post(f"/v1/lender/loans/{booked.loan_id}/fund", headers=booked.lender)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "funding_gates_open"
    assert refused.json()["error"]["gates"] == [
        "decision",
        "contract_signed",
        "stipulations",
        "down_payment",
        "insurance",
    ]


async def test_an_auto_funded_loan_is_activated_at_handover_not_by_the_lender(
    client: httpx.AsyncClient, session: AsyncSession, book_loan: BookLoan
) -> None:
    booked = await book_loan(activate=False)
    refused = await client.post(f"/v1/lender/loans/{booked.loan_id}/fund", headers=booked.lender)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "loan_auto_funded"
    system = "system"
    assert (await service.activate_at_handover(session, system, booked.loan_id)) is not None
    assert (await service.activate_at_handover(session, system, booked.loan_id)) is None
    assert (await service.cancel_before_handover(session, system, booked.loan_id)) is None


async def test_a_cancelled_deals_loan_is_cancelled_and_takes_no_payments(
    client: httpx.AsyncClient, session: AsyncSession, book_loan: BookLoan, localstripe: LocalStripe
) -> None:
    booked = await book_loan(activate=False)
    cancelled = await service.cancel_before_handover(session, "system", booked.loan_id)
    assert cancelled is not None and cancelled.status == LoanStatus.cancelled
    assert await service.activate_at_handover(session, "system", booked.loan_id) is None
    await session.commit()
    await save_card(client, booked.buyer, localstripe)

    response = await pay(client, booked.buyer, booked.loan_id, {"installments": 1})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "loan_not_repayable"


async def test_booking_a_second_live_loan_on_one_preapproval_is_refused(
    session: AsyncSession, book_loan: BookLoan
) -> None:
    booked = await book_loan()
    loan = await session.get(Loan, booked.loan_id)
    assert loan is not None
    actor = Principal(role="dealer", user_id=uuid.uuid4(), organization_id=loan.dealer_id)
    try:
        await service.book_loan(
            session,
            actor,
            preapproval_id=loan.preapproval_id,
            offer_id=loan.offer_id,
            product_version_id=loan.product_version_id,
            lender_id=loan.lender_id,
            buyer_id=loan.buyer_id,
            dealer_id=loan.dealer_id,
            principal=loan.principal,
            annual_rate=loan.annual_rate,
            term_months=loan.term_months,
            method=loan.method,
            upfront_fee=0,
            grade=loan.grade,
            platform_guarantee=False,
            auto_fund=True,
            loan_date=today(),
            vehicle={},
        )
    except Exception as refusal:  # noqa: BLE001
        assert getattr(refusal, "code", None) == "loan_already_booked"
    else:
        raise AssertionError("a second live loan was booked")


async def test_the_payoff_quote_closes_the_loan_and_refuses_a_date_before_the_loan(
    client: httpx.AsyncClient, book_loan: BookLoan
) -> None:
    booked = await book_loan()
    path = f"/v1/buyer/loans/{booked.loan_id}/payoff"
    loan = (await client.get(f"/v1/buyer/loans/{booked.loan_id}", headers=booked.buyer)).json()

    on_loan_date = await client.get(path, params={"on": today().isoformat()}, headers=booked.buyer)
    assert on_loan_date.json() == {
        "on": today().isoformat(),
        "amount": loan["principal"],
        "principal": loan["principal"],
        "interest": 0,
        "fees": 0,
    }
    first_due = loan["schedule"][0]["due_date"]
    at_first_due = (await client.get(path, params={"on": first_due}, headers=booked.buyer)).json()
    assert at_first_due["interest"] == loan["schedule"][0]["interest"]
    midway = (today() + timedelta(days=10)).isoformat()
    part = (await client.get(path, params={"on": midway}, headers=booked.buyer)).json()
    assert 0 < part["interest"] < loan["schedule"][0]["interest"]

    before = (today() - timedelta(days=1)).isoformat()
    refused = await client.get(path, params={"on": before}, headers=booked.buyer)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "payoff_date_invalid"
