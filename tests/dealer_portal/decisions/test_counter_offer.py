"""The counter-offer: accepted, it books a new loan whose contract needs a new signature."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing.models import Loan
from tests.dealer_portal.decisions.conftest import (
    confirmed_deal,
    contract,
    dealer_deal,
    decide,
    deliver_paid,
    manual_setup,
    sha,
    sign,
)
from tests.factories import Headers, sms_code

# -- counter-offers ------------------------------------------------------------------------------


async def test_an_accepted_counter_offer_books_a_new_loan_whose_contract_needs_a_new_signature(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    m = await manual_setup(client, admin)
    deal = await confirmed_deal(client, m)
    before = await contract(client, m, deal.loan_id)
    lender_view = (await client.get(f"/v1/lender/deals/{deal.deal_id}", headers=m.lender)).json()
    ceiling = lender_view["max_counter_rate"]

    too_dear = await decide(
        client,
        m,
        deal.deal_id,
        decision="counter",
        counter={"amount": 10_000_000, "term_months": 24, "annual_rate": "0.2399"},
    )
    assert too_dear.status_code == 422, too_dear.text
    assert too_dear.json()["error"]["field"] == "counter.annual_rate"
    too_much = await decide(
        client,
        m,
        deal.deal_id,
        decision="counter",
        counter={"amount": 10_000_001, "term_months": 24, "annual_rate": ceiling},
    )
    assert too_much.status_code == 422
    # Lending less would leave the rest of the car unpaid: the down payment is already set.
    too_little = await decide(
        client,
        m,
        deal.deal_id,
        decision="counter",
        counter={"amount": 8_000_000, "term_months": 24, "annual_rate": ceiling},
    )
    assert too_little.status_code == 422
    assert too_little.json()["error"]["field"] == "counter.amount"
    countered = await decide(
        client,
        m,
        deal.deal_id,
        decision="counter",
        counter={"amount": 10_000_000, "term_months": 24, "annual_rate": ceiling},
    )
    assert countered.status_code == 200, countered.text
    mine = (await client.get("/v1/buyer/deals", headers=m.buyer)).json()["items"][0]
    assert mine["decision"]["counter_offer"]["term_months"] == 24

    accepted = await client.post(
        f"/v1/buyer/deals/{deal.deal_id}/counter-offer", json={"accept": True}, headers=m.buyer
    )
    assert accepted.status_code == 200, accepted.text
    new_loan = accepted.json()["loan_id"]
    assert new_loan != deal.loan_id and accepted.json()["principal"] == 10_000_000
    assert accepted.json()["term_months"] == 24
    old = await session.get(Loan, uuid.UUID(deal.loan_id), populate_existing=True)
    assert old is not None and old.status == "cancelled"
    gone = await client.get(f"/v1/buyer/loans/{deal.loan_id}/contract", headers=m.buyer)
    assert gone.status_code == 404

    after = await contract(client, m, new_loan)
    assert sha(after) != sha(before)
    code = await sms_code(client, m.phone, "sign")
    stale = await sign(client, m, new_loan, sha(before), code)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "contract_changed"
    await deliver_paid(client, deal.intent)
    assert (await dealer_deal(client, m, deal.deal_id))["status"] == "confirmed"
    assert (await sign(client, m, new_loan, sha(after), code)).status_code == 200
    handed = await dealer_deal(client, m, deal.deal_id)
    assert handed["status"] == "handed_over" and handed["loan_id"] == new_loan
    loan = await session.get(Loan, uuid.UUID(new_loan), populate_existing=True)
    assert loan is not None and loan.principal == 10_000_000 and loan.term_months == 24
