"""One buyer's whole journey across the three domains, over HTTP with the real Stripe SDK:
pre-approval online → dealer look-up, deal and confirmation at handover → down payment →
the loan active → a monthly repayment on a saved card → the lender's view of it."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.dealer_portal.conftest import PHONE, approved_buyer, confirm, quoted_deal
from tests.factories import admin_headers
from tests.servicing.conftest import deliver, pay, save_card, succeeded_event_for
from tests.stripe_fixtures import LocalStripe


async def test_from_preapproval_through_handover_to_the_first_repayment(
    stripe_settings: LocalStripe, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    approved = await approved_buyer(client, admin, phone=PHONE)

    # At the dealership: look up, structure the deal on a real car, confirm at handover.
    lookup = await client.post(
        "/v1/dealer/lookups",
        json={"code": approved.code, "verifier": PHONE[-4:]},
        headers=approved.dealer,
    )
    assert lookup.status_code == 200 and lookup.json()["buyer_name_masked"] == "张*"
    deal_id = await quoted_deal(client, approved, price=15_000_000, down_payment=5_000_000)
    confirmed = await confirm(client, approved.dealer, deal_id)
    assert confirmed.status_code == 200, confirmed.text
    loan_id = confirmed.json()["loan_id"]
    down_payment = confirmed.json()["down_payment"]
    assert down_payment["amount"] == 5_000_000

    # The buyer pays the down payment; Stripe's webhook hands the car over, the loan goes live.
    stripe = stripe_settings.client()
    card = await stripe_settings.create_card_payment_method()
    intent_id = down_payment["payment_intent_id"]
    await stripe.v1.payment_intents.update_async(intent_id, {"payment_method": card})
    await stripe.v1.payment_intents.confirm_async(intent_id)
    paid = await succeeded_event_for(stripe_settings, intent_id)
    assert (await deliver(client, stripe_settings, paid)).status_code == 200
    deal = (await client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)).json()
    assert deal["status"] == "handed_over" and deal["down_payment_status"] == "paid"
    preapproval = await client.get(
        f"/v1/buyer/preapprovals/{approved.preapproval['id']}", headers=approved.buyer
    )
    assert preapproval.json()["status"] == "consumed"

    # After the sale: the buyer sees the loan, exactly the quoted schedule, and repays online.
    loan = (await client.get(f"/v1/buyer/loans/{loan_id}", headers=approved.buyer)).json()
    assert loan["status"] == "active" and loan["principal"] == 10_000_000
    assert loan["monthly_payment"] == deal["quote"]["monthly_payment"]
    await save_card(client, approved.buyer, stripe_settings)
    repayment = await pay(client, approved.buyer, loan_id, {"installments": 1})
    assert repayment.status_code == 201, repayment.text
    assert repayment.json()["amount"] == loan["schedule"][0]["payment"]
    event = await succeeded_event_for(stripe_settings, repayment.json()["payment_intent_id"])
    assert (await deliver(client, stripe_settings, event)).status_code == 200
    loan = (await client.get(f"/v1/buyer/loans/{loan_id}", headers=approved.buyer)).json()
    assert [row["status"] for row in loan["schedule"][:2]] == ["paid", "due"]

    # The lender sees the loan on its book.
    lender = await lender_key(client, admin, str(loan["lender"]["id"]))
    listed = (await client.get("/v1/lender/loans", headers=lender)).json()
    assert [item["id"] for item in listed["items"]] == [loan_id]


async def lender_key(
    client: httpx.AsyncClient, admin: dict[str, str], lender_id: str
) -> dict[str, str]:
    response = await client.post(f"/v1/admin/organizations/{lender_id}/api-keys", headers=admin)
    return {"Authorization": f"Bearer {response.json()['key']}"}
