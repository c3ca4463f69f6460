"""A decline — by the lender, or the buyer declining a counter-offer — cancels the deal."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing.models import Loan
from tests.dealer_portal.conftest import pay
from tests.dealer_portal.decisions.conftest import (
    confirmed_deal,
    dealer_deal,
    decide,
    deliver_paid,
    manual_setup,
)
from tests.factories import Headers
from tests.stripe_fixtures import LocalStripe


@pytest.mark.parametrize("by", ["buyer_declines_counter", "lender_declines"])
async def test_a_decline_cancels_the_deal_refunds_and_returns_the_credit(
    by: str,
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    localstripe: LocalStripe,
) -> None:
    m = await manual_setup(client, admin)
    deal = await confirmed_deal(client, m)
    await pay(localstripe, deal.intent["id"])
    await deliver_paid(client, deal.intent)
    if by == "lender_declines":
        no_reason = await decide(client, m, deal.deal_id, decision="decline")
        assert no_reason.status_code == 422
        answer = await decide(client, m, deal.deal_id, decision="decline", reasons=["收入不足"])
        assert answer.status_code == 200, answer.text
        assert answer.json()["decision"]["reasons"] == ["收入不足"]
    else:
        ceiling = (await client.get(f"/v1/lender/deals/{deal.deal_id}", headers=m.lender)).json()[
            "max_counter_rate"
        ]
        countered = await decide(
            client,
            m,
            deal.deal_id,
            decision="counter",
            counter={"amount": 10_000_000, "term_months": 24, "annual_rate": ceiling},
        )
        assert countered.status_code == 200, countered.text
        answer = await client.post(
            f"/v1/buyer/deals/{deal.deal_id}/counter-offer",
            json={"accept": False},
            headers=m.buyer,
        )
        assert answer.status_code == 200, answer.text
    seen = await dealer_deal(client, m, deal.deal_id)
    assert seen["status"] == "cancelled" and seen["down_payment_status"] == "refunded"
    assert seen["decision"]["status"] == "declined"
    loan = await session.get(Loan, uuid.UUID(deal.loan_id), populate_existing=True)
    assert loan is not None and loan.status == "cancelled"
    preapproval = await client.get(f"/v1/buyer/preapprovals/{m.preapproval['id']}", headers=m.buyer)
    assert preapproval.json()["status"] == "active"
    late = await decide(client, m, deal.deal_id, decision="approve")
    assert late.status_code == 409
