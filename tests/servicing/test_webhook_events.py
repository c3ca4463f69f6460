"""Servicing writes its webhook events with the change they describe, to the loan's lender and
dealer: funded (by the lender or at handover), each credited payment, a worse delinquency
bucket, paid off."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from autofin.jobs import run_daily_jobs
from marketplace.servicing import funding
from marketplace.servicing.exceptions import LoanNotPendingFunding
from marketplace.servicing.models import Loan
from shared.db import utcnow
from shared.identity.principal import Principal
from shared.webhooks.models import WebhookEvent
from tests.servicing.conftest import BookLoan, days_ago, pay, save_card, today
from tests.stripe_fixtures import LocalStripe


async def events_of(session: AsyncSession, loan_id: uuid.UUID) -> list[WebhookEvent]:
    rows = await session.scalars(
        select(WebhookEvent)
        .where(col(WebhookEvent.data)["loan_id"].astext == str(loan_id))
        .order_by(col(WebhookEvent.created_at), col(WebhookEvent.type))
        .execution_options(populate_existing=True)
    )
    return list(rows)


def types(events: list[WebhookEvent]) -> list[str]:
    return [event.type for event in events]


async def test_a_loan_tells_its_lender_and_dealer_what_happens_to_it(
    client: httpx.AsyncClient,
    session: AsyncSession,
    book_loan: BookLoan,
    localstripe: LocalStripe,
) -> None:
    booked = await book_loan(loan_date=days_ago(70))  # funded automatically at handover
    loan = await session.get(Loan, booked.loan_id)
    assert loan is not None and loan.dealer_id is not None
    funded = await events_of(session, booked.loan_id)
    assert types(funded) == ["loan.funded"]
    assert sorted(funded[0].organization_ids) == sorted([loan.lender_id, loan.dealer_id])
    data: dict[str, Any] = funded[0].data
    assert data["status"] == "active" and data["auto_fund"] is True
    assert data["principal"] == loan.principal and data["lender_id"] == str(loan.lender_id)

    await save_card(client, booked.buyer, localstripe)
    paid = await pay(client, booked.buyer, booked.loan_id, {"installments": 1})
    assert paid.status_code == 201, paid.text
    payment = (await events_of(session, booked.loan_id))[-1]
    assert payment.type == "payment.succeeded"
    assert payment.data["payment_id"] == paid.json()["payment_id"]
    assert payment.data["amount"] == paid.json()["amount"]

    # The daily job finds instalment 2 late: a worse bucket, told once however often it runs.
    await run_daily_jobs(session, as_of=today(), progress=lambda _: None)
    await run_daily_jobs(session, as_of=today(), progress=lambda _: None)
    await session.commit()
    delinquent = [
        e for e in await events_of(session, booked.loan_id) if e.type == "loan.delinquent"
    ]
    assert len(delinquent) == 1
    assert delinquent[0].data["bucket"] == "1-30" and delinquent[0].data["days_past_due"] > 0

    payoff = await pay(client, booked.buyer, booked.loan_id, {"payoff": True})
    assert payoff.status_code == 201, payoff.text
    assert types(await events_of(session, booked.loan_id))[-2:] == [
        "loan.paid_off",
        "payment.succeeded",
    ]  # both written in the payoff's transaction
    # Nothing personal in any of them.
    for event in await events_of(session, booked.loan_id):
        assert not {"phone", "name", "national_id", "vin"} & set(event.data)


async def test_the_lender_funding_a_loan_tells_the_lender_and_the_dealer(
    client: httpx.AsyncClient, session: AsyncSession, book_loan: BookLoan
) -> None:
    booked = await book_loan(activate=False, auto_fund=False)
    assert types(await events_of(session, booked.loan_id)) == []
    lender = Principal(role="lender", user_id=uuid.uuid4(), organization_id=booked.lender_id)
    await funding.mark_funded(session, lender, booked.loan_id, utcnow())
    with pytest.raises(LoanNotPendingFunding):
        await funding.mark_funded(session, lender, booked.loan_id, utcnow())
    events = await events_of(session, booked.loan_id)
    assert types(events) == ["loan.funded"]  # once: the refused second call wrote nothing
    assert events[0].data["auto_fund"] is False and events[0].data["funded_at"]
