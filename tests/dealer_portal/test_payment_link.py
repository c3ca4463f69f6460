"""The down payment's payment page (the client secret is the proof), the dealer's payment link
and QR code, the buyer's card setup for Stripe.js, and the approval's QR code."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from tests.dealer_portal.conftest import (
    approved_buyer,
    committed_admin,
    confirm,
    intent_object,
    new_dealer,
    quoted_deal,
    signed_event,
)
from tests.factories import admin_headers, buyer_headers
from tests.stripe_fixtures import LocalStripe


async def test_the_payment_page_takes_the_down_payment_once_and_only_with_the_secret(
    client: httpx.AsyncClient, session: AsyncSession, localstripe: LocalStripe
) -> None:
    admin = await admin_headers(client, session)
    approved = await approved_buyer(client, admin)
    deal_id = await quoted_deal(client, approved)
    link_path = f"/v1/dealer/deals/{deal_id}/payment-link"

    not_yet = await client.get(link_path, headers=approved.dealer)
    assert not_yet.status_code == 409
    assert not_yet.json()["error"]["code"] == "down_payment_not_due"

    confirmed = (await confirm(client, approved.dealer, deal_id)).json()
    secret = confirmed["down_payment"]["client_secret"]
    intent_id = confirmed["down_payment"]["payment_intent_id"]
    assert secret.startswith(f"{intent_id}_secret_")

    link = await client.get(link_path, headers=approved.dealer)
    assert link.status_code == 200, link.text
    assert link.json()["url"] == f"http://testserver/pay#{secret}"
    assert link.json()["qr_svg"].startswith("data:image/svg+xml")
    assert link.json()["amount"] == confirmed["deal"]["down_payment"]
    _, other_dealer = await new_dealer(client, admin)
    assert (await client.get(link_path, headers=other_dealer)).status_code == 404

    # A wrong secret for the right intent, an unknown intent and a malformed one: alike or 422.
    for wrong in (f"{intent_id}_secret_guessed", "pi_unknown_secret_abc"):
        refused = await client.post("/v1/pay/down-payment", json={"client_secret": wrong})
        assert refused.status_code == 404, refused.text
        assert refused.json()["error"]["code"] == "payment_link_not_found"
    malformed = await client.post("/v1/pay/down-payment", json={"client_secret": "x"})
    assert malformed.status_code == 422

    shown = await client.post("/v1/pay/down-payment", json={"client_secret": secret})
    assert shown.status_code == 200, shown.text
    page = shown.json()
    assert page["buyer_name_masked"] == "张*"
    assert page["down_payment_status"] == "requested"
    assert page["card"]["setup_client_secret"].startswith("seti_")
    assert page["card"]["stripe_js_url"] == f"{localstripe.base_url}/js.stripe.com/v3/"

    card = await localstripe.create_card_payment_method()  # what Stripe.js gives the page
    body = {"client_secret": secret, "payment_method": card}
    wrong_secret = {**body, "client_secret": f"{intent_id}_secret_guessed"}
    assert (await client.post("/v1/pay/down-payment/confirm", json=wrong_secret)).status_code == 404
    paid = await client.post("/v1/pay/down-payment/confirm", json=body)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "succeeded"

    # A second tap before the webhook: Stripe's intent succeeded once and cannot be paid again.
    again = await client.post("/v1/pay/down-payment/confirm", json=body)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "down_payment_not_due"

    payload, headers = signed_event("payment_intent.succeeded", intent_object(confirmed["deal"]))
    assert (await client.post("/v1/stripe/webhook", content=payload, headers=headers)).is_success
    after = (await client.post("/v1/pay/down-payment", json={"client_secret": secret})).json()
    assert after["down_payment_status"] == "paid"
    assert after["deal_status"] == "handed_over"
    assert after["card"] is None
    late = await client.post("/v1/pay/down-payment/confirm", json=body)
    assert late.status_code == 409
    assert (await client.get(link_path, headers=approved.dealer)).status_code == 409


async def test_a_buyer_takes_a_card_with_stripe_js_and_sees_it_saved(
    client: httpx.AsyncClient, localstripe: LocalStripe
) -> None:
    buyer = await buyer_headers(client)
    key = {"Idempotency-Key": "card-form-1"}
    setup = await client.post("/v1/buyer/card-setups", headers={**buyer, **key})
    assert setup.status_code == 201, setup.text
    assert setup.json()["setup_client_secret"].startswith("seti_")
    assert setup.json()["publishable_key"].startswith("pk_")
    assert (await client.get("/v1/buyer/payment-methods", headers=buyer)).json()["items"] == []

    card = await localstripe.create_card_payment_method()
    saved = await client.post(
        "/v1/buyer/payment-methods", json={"payment_method": card}, headers=buyer
    )
    assert saved.status_code == 201, saved.text
    listed = (await client.get("/v1/buyer/payment-methods", headers=buyer)).json()
    assert listed["total"] == 1
    assert listed["items"][0]["card_last4"] == "4242"
    assert (await client.post("/v1/buyer/card-setups", headers=key)).status_code == 401
    no_key = await client.post("/v1/buyer/card-setups", headers=buyer)
    assert no_key.status_code == 400
    assert no_key.json()["error"]["code"] == "idempotency_key_required"


async def test_the_approval_qr_code_opens_the_dealer_portal_with_the_code(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    approved = await approved_buyer(client, admin)
    path = f"/v1/buyer/preapprovals/{approved.preapproval['id']}/qr"
    answer = await client.get(path, headers=approved.buyer)
    assert answer.status_code == 200, answer.text
    assert answer.json()["url"] == f"http://testserver/dealer#code={approved.code}"
    assert answer.json()["qr_svg"].startswith("data:image/svg+xml")
    stranger = await buyer_headers(client)
    assert (await client.get(path, headers=stranger)).status_code == 404


async def test_two_phones_paying_at_once_charge_the_down_payment_once(
    committed_client: httpx.AsyncClient, committed_database: Database, localstripe: LocalStripe
) -> None:
    """The QR code scanned twice and both phones paying: Stripe's intent succeeds once, the other
    is refused (409), and one charge exists."""
    client = committed_client
    admin = await committed_admin(client, committed_database)
    approved = await approved_buyer(client, admin)
    deal_id = await quoted_deal(client, approved)
    confirmed = (await confirm(client, approved.dealer, deal_id)).json()
    secret = confirmed["down_payment"]["client_secret"]
    cards = [await localstripe.create_card_payment_method() for _ in range(2)]
    answers = await asyncio.gather(
        *(
            client.post(
                "/v1/pay/down-payment/confirm",
                json={"client_secret": secret, "payment_method": card},
            )
            for card in cards
        )
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409], [
        answer.text for answer in answers
    ]
    intent_id = confirmed["down_payment"]["payment_intent_id"]
    async with httpx.AsyncClient(base_url=localstripe.base_url) as stripe:
        listed = await stripe.get(
            "/v1/charges",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {localstripe.api_key}"},
        )
    charges = [c for c in listed.json()["data"] if c.get("payment_intent") == intent_id]
    assert [charge["status"] for charge in charges] == ["succeeded"]
