"""Cancel before handover: the credit given back, the loan cancelled, the down payment voided or
refunded."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing.models import Loan
from tests.dealer_portal.conftest import (
    approved_buyer,
    confirm,
    deliver,
    intent_object,
    pay,
    quoted_deal,
)
from tests.stripe_fixtures import LocalStripe


async def test_cancelling_a_quoted_deal_leaves_the_approval_untouched(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    deal_id = await quoted_deal(client, approved)
    cancelled = await client.post(f"/v1/dealer/deals/{deal_id}/cancel", headers=approved.dealer)
    repeated = await client.post(f"/v1/dealer/deals/{deal_id}/cancel", headers=approved.dealer)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert repeated.json() == cancelled.json()
    confirm_cancelled = await confirm(client, approved.dealer, deal_id)
    assert confirm_cancelled.status_code == 409


async def test_cancelling_a_paid_deal_refunds_it_cancels_the_loan_and_gives_the_credit_back(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    localstripe: LocalStripe,
) -> None:
    approved = await approved_buyer(client, admin)
    deal_id = await quoted_deal(client, approved)
    confirmed = (await confirm(client, approved.dealer, deal_id)).json()
    # The buyer pays while staff cancel; the webhook has not arrived yet.
    await pay(localstripe, confirmed["down_payment"]["payment_intent_id"])

    cancelled = await client.post(f"/v1/dealer/deals/{deal_id}/cancel", headers=approved.dealer)

    assert cancelled.status_code == 200, cancelled.text
    deal = cancelled.json()
    assert deal["status"] == "cancelled" and deal["down_payment_status"] == "refunded"
    assert deal["refund_id"].startswith("re_")
    loan = await session.get(Loan, uuid.UUID(confirmed["loan_id"]), populate_existing=True)
    assert loan is not None and loan.status == "cancelled"
    # The late webhook neither hands the car over nor undoes the refund.
    paid = confirmed["deal"] | {"payment_intent_id": confirmed["down_payment"]["payment_intent_id"]}
    assert await deliver(client, "payment_intent.succeeded", intent_object(paid)) == 200
    after = (await client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)).json()
    assert after["status"] == "cancelled" and after["down_payment_status"] == "refunded"
    # The buyer can use the approval again, at any dealer.
    preapproval = await client.get(
        f"/v1/buyer/preapprovals/{approved.preapproval['id']}", headers=approved.buyer
    )
    assert preapproval.json()["status"] == "active"
    next_deal = await quoted_deal(client, approved)
    assert (await confirm(client, approved.dealer, next_deal)).status_code == 200


async def test_cancelling_an_unpaid_confirmed_deal_voids_its_payment_intent(
    client: httpx.AsyncClient, admin: dict[str, str], localstripe: LocalStripe
) -> None:
    approved = await approved_buyer(client, admin)
    deal_id = await quoted_deal(client, approved)
    confirmed = (await confirm(client, approved.dealer, deal_id)).json()
    cancelled = await client.post(f"/v1/dealer/deals/{deal_id}/cancel", headers=approved.dealer)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["down_payment_status"] == "voided"
    intent = await localstripe.client().v1.payment_intents.retrieve_async(
        confirmed["down_payment"]["payment_intent_id"]
    )
    assert intent.status == "canceled"
