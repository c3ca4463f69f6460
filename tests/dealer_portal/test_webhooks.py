"""Stripe's events about down payments: paid hands the deal over, failed shows the dealer why;
unverifiable, duplicate or out-of-order events change nothing more."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing.models import Loan
from shared.db import Database
from shared.payments.models import StripeEventRecord
from tests.dealer_portal.conftest import (
    approved_buyer,
    audited,
    committed_admin,
    confirm,
    count,
    deliver,
    intent_object,
    quoted_deal,
    signed_event,
)


async def test_the_paid_down_payment_hands_the_deal_over_and_activates_the_loan(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    deal_id = await quoted_deal(client, approved)
    confirmed = (await confirm(client, approved.dealer, deal_id)).json()

    failed = intent_object(
        confirmed["deal"] | {"payment_intent_id": confirmed["down_payment"]["payment_intent_id"]},
        status="requires_payment_method",
        last_payment_error={
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
        },
    )
    assert await deliver(client, "payment_intent.payment_failed", failed) == 200
    seen = (await client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)).json()
    assert seen["status"] == "confirmed" and seen["down_payment_status"] == "failed"
    assert seen["down_payment_failure"] == {
        "code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
    }

    assert (
        await deliver(client, "payment_intent.succeeded", failed | {"status": "succeeded"}) == 200
    )
    handed = (await client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)).json()
    assert handed["status"] == "handed_over" and handed["down_payment_status"] == "paid"
    assert handed["down_payment_failure"] is None
    loan = await session.get(Loan, uuid.UUID(confirmed["loan_id"]), populate_existing=True)
    assert loan is not None and loan.status == "active"

    late_failure = await deliver(client, "payment_intent.payment_failed", failed)
    cancel = await client.post(f"/v1/dealer/deals/{deal_id}/cancel", headers=approved.dealer)
    assert late_failure == 200
    assert (await client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)).json()[
        "status"
    ] == "handed_over"
    assert cancel.status_code == 409 and cancel.json()["error"]["code"] == "deal_not_cancellable"


async def test_a_loan_the_lender_funds_waits_after_handover(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin, auto_fund=False)
    deal_id = await quoted_deal(client, approved)
    confirmed = (await confirm(client, approved.dealer, deal_id)).json()
    paid = confirmed["deal"] | {"payment_intent_id": confirmed["down_payment"]["payment_intent_id"]}
    assert await deliver(client, "payment_intent.succeeded", intent_object(paid)) == 200
    loan = await session.get(Loan, uuid.UUID(confirmed["loan_id"]), populate_existing=True)
    assert loan is not None and loan.status == "pending_funding"


@pytest.mark.parametrize("tamper", ["wrong_secret", "stale_timestamp"])
async def test_an_unverifiable_down_payment_event_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], tamper: str
) -> None:
    approved = await approved_buyer(client, admin)
    deal_id = await quoted_deal(client, approved)
    confirmed = (await confirm(client, approved.dealer, deal_id)).json()
    paid = confirmed["deal"] | {"payment_intent_id": confirmed["down_payment"]["payment_intent_id"]}
    events_before = await count(session, StripeEventRecord)
    options: dict[str, Any] = (
        {"secret": "whsec_someone_else"}
        if tamper == "wrong_secret"
        else {"timestamp": int(time.time()) - 3600}
    )

    payload, headers = signed_event("payment_intent.succeeded", intent_object(paid), **options)
    response = await client.post("/v1/stripe/webhook", content=payload, headers=headers)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert await count(session, StripeEventRecord) == events_before
    deal = (await client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)).json()
    assert deal["status"] == "confirmed" and deal["down_payment_status"] == "requested"


async def test_duplicate_and_out_of_order_webhooks_have_one_effect(
    committed_client: httpx.AsyncClient, committed_database: Database
) -> None:
    admin = await committed_admin(committed_client, committed_database)
    approved = await approved_buyer(committed_client, admin)
    deal_id = await quoted_deal(committed_client, approved)
    confirmed = (await confirm(committed_client, approved.dealer, deal_id)).json()
    paid = confirmed["deal"] | {"payment_intent_id": confirmed["down_payment"]["payment_intent_id"]}
    failed_event = signed_event(
        "payment_intent.payment_failed",
        intent_object(
            paid, status="requires_payment_method", last_payment_error={"code": "card_declined"}
        ),
    )
    succeeded_event = signed_event("payment_intent.succeeded", intent_object(paid))
    deliveries = [failed_event] * 5 + [succeeded_event] * 5
    random.shuffle(deliveries)

    responses = await asyncio.gather(
        *(
            committed_client.post("/v1/stripe/webhook", content=payload, headers=headers)
            for payload, headers in deliveries
        )
    )

    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert sum(not r.json()["duplicate"] for r in responses) == 2
    deal = (
        await committed_client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)
    ).json()
    assert deal["status"] == "handed_over" and deal["down_payment_status"] == "paid"
    async with committed_database.sessionmaker() as session:
        assert await audited(session, "deal.handed_over", deal_id) == 1
        assert await audited(session, "loan.activated", confirmed["loan_id"]) == 1
