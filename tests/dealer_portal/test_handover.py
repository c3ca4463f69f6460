"""Confirm exactly once, take the down payment through Stripe, hand over or cancel and refund."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.models import DealerDeal
from marketplace.servicing.models import Loan
from shared.audit import AuditEntry
from shared.db import Database
from shared.payments.models import StripeEventRecord
from tests.dealer_portal.conftest import (
    Approved,
    StripeLikeGateway,
    approved_buyer,
    committed_admin,
    confirm,
    deal_body,
    intent_object,
    new_dealer,
    pay,
    quoted_deal,
    signed_event,
)
from tests.factories import admin_headers
from tests.stripe_fixtures import LocalStripe


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> dict[str, str]:
    return await admin_headers(client, session)


async def count(session: AsyncSession, model: Any, *where: Any) -> int:
    result = await session.execute(select(func.count()).select_from(model).where(*where))
    return int(result.scalar_one())


async def audited(session: AsyncSession, action: str, subject_id: str) -> int:
    return await count(
        session,
        AuditEntry,
        col(AuditEntry.action) == action,
        col(AuditEntry.subject_id) == subject_id,
    )


async def deliver(client: httpx.AsyncClient, event_type: str, intent: dict[str, Any]) -> int:
    payload, headers = signed_event(event_type, intent)
    response = await client.post("/v1/stripe/webhook", content=payload, headers=headers)
    return response.status_code


async def test_confirming_books_the_loan_and_asks_for_the_down_payment_once(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    deal_id = await quoted_deal(client, approved)
    key = f"confirm-{uuid.uuid4()}"

    first = await confirm(client, approved.dealer, deal_id, key)
    replay = await confirm(client, approved.dealer, deal_id, key)
    other_body = await confirm(client, approved.dealer, deal_id, key, identity_document="passport")
    unverified = await client.post(
        f"/v1/dealer/deals/{deal_id}/confirm",
        json={"identity_verified": False},
        headers={**approved.dealer, "Idempotency-Key": f"confirm-{uuid.uuid4()}"},
    )
    no_key = await client.post(
        f"/v1/dealer/deals/{deal_id}/confirm",
        json={"identity_verified": True},
        headers=approved.dealer,
    )

    assert first.status_code == 200, first.text
    body = first.json()
    assert body["deal"]["status"] == "confirmed"
    assert body["down_payment"]["amount"] == 5_000_000
    assert body["down_payment"]["payment_intent_id"].startswith("pi_")
    assert body["down_payment"]["client_secret"]
    assert replay.status_code == 200 and replay.json() == body
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert other_body.status_code == 422
    assert other_body.json()["error"]["code"] == "idempotency_key_reused"
    assert unverified.status_code == 422 and no_key.status_code == 400
    loan = await session.get(Loan, uuid.UUID(body["loan_id"]))
    assert loan is not None and loan.status == "pending_funding"
    assert loan.principal == 10_000_000 and str(loan.dealer_id) == approved.dealer_id
    preapproval = await client.get(
        f"/v1/buyer/preapprovals/{approved.preapproval['id']}", headers=approved.buyer
    )
    assert preapproval.json()["status"] == "consumed"
    assert await audited(session, "deal.confirmed", deal_id) == 1


async def test_a_second_deal_on_a_consumed_approval_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    first_deal = await quoted_deal(client, approved)
    second_deal = await quoted_deal(client, approved)
    assert (await confirm(client, approved.dealer, first_deal)).status_code == 200

    second = await confirm(client, approved.dealer, second_deal)
    again = await confirm(client, approved.dealer, first_deal)

    assert second.status_code == 409
    assert second.json()["error"]["code"] == "approval_consumed"
    assert again.status_code == 409 and again.json()["error"]["code"] == "deal_not_quoted"
    deal = await client.get(f"/v1/dealer/deals/{second_deal}", headers=approved.dealer)
    assert deal.json()["status"] == "quoted"  # its phase rolled back whole


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


# -- races and crashes, on a committed database -------------------------------------------------


async def _approved_with_two_dealers(
    client: httpx.AsyncClient, database: Database
) -> tuple[Approved, dict[str, str], str, str]:
    admin = await committed_admin(client, database)
    approved = await approved_buyer(client, admin)
    _, other_dealer = await new_dealer(client, admin)
    first = await quoted_deal(client, approved)
    response = await client.post("/v1/dealer/deals", json=deal_body(approved), headers=other_dealer)
    assert response.status_code == 201, response.text
    return approved, other_dealer, first, response.json()["id"]


async def test_fifty_concurrent_confirms_of_one_approval_from_two_dealers_book_one_loan(
    committed_client: httpx.AsyncClient,
    committed_app: tuple[FastAPI, StripeLikeGateway],
    committed_database: Database,
) -> None:
    approved, other_dealer, first, second = await _approved_with_two_dealers(
        committed_client, committed_database
    )
    attempts = [(approved.dealer, first)] * 25 + [(other_dealer, second)] * 25
    random.shuffle(attempts)

    responses = await asyncio.gather(
        *(confirm(committed_client, headers, deal_id) for headers, deal_id in attempts)
    )

    statuses = sorted(r.status_code for r in responses)
    # Exactly one wins; the rest lose (409) or, on a machine too busy to hand out a pooled
    # connection within its timeout, are shed with 503 `database_busy` — never a 500.
    shed = [r for r in responses if r.status_code == 503]
    assert all(r.json()["error"]["code"] == "database_busy" for r in shed)
    assert statuses == [200] + [409] * (49 - len(shed)) + [503] * len(shed), [
        r.text for r in responses if r.status_code != 409
    ]
    assert committed_app[1].created == 1
    async with committed_database.sessionmaker() as session:
        preapproval_id = approved.preapproval["id"]
        assert await count(session, Loan, col(Loan.preapproval_id) == preapproval_id) == 1
        assert await audited(session, "preapproval.consumed", preapproval_id) == 1
        confirmed = await count(session, DealerDeal, col(DealerDeal.status) == "confirmed")
        assert confirmed == 1


async def test_a_crash_after_stripe_answered_is_finished_by_the_retry_without_a_second_charge(
    committed_client: httpx.AsyncClient,
    committed_app: tuple[FastAPI, StripeLikeGateway],
    committed_database: Database,
    localstripe: LocalStripe,
) -> None:
    admin = await committed_admin(committed_client, committed_database)
    approved = await approved_buyer(committed_client, admin)
    deal_id = await quoted_deal(committed_client, approved)
    gateway = committed_app[1]
    gateway.crash_after_stripe = True
    key = f"confirm-{uuid.uuid4()}"

    crashed = await confirm(committed_client, approved.dealer, deal_id, key)
    retried = await confirm(committed_client, approved.dealer, deal_id, key)

    assert crashed.status_code == 500
    assert retried.status_code == 200, retried.text
    intents = [
        i
        for i in await localstripe.list_payment_intents()
        if i["metadata"].get("deal_id") == deal_id
    ]
    assert [i["id"] for i in intents] == [retried.json()["down_payment"]["payment_intent_id"]]
    async with committed_database.sessionmaker() as session:
        preapproval_id = approved.preapproval["id"]
        assert await count(session, Loan, col(Loan.preapproval_id) == preapproval_id) == 1
        assert await audited(session, "deal.confirmed", deal_id) == 1


async def test_a_stripe_outage_at_confirm_is_resumed_by_the_retry(
    committed_client: httpx.AsyncClient,
    committed_app: tuple[FastAPI, StripeLikeGateway],
    committed_database: Database,
) -> None:
    admin = await committed_admin(committed_client, committed_database)
    approved = await approved_buyer(committed_client, admin)
    deal_id = await quoted_deal(committed_client, approved)
    gateway = committed_app[1]
    real_base = gateway._api_base
    gateway._api_base, gateway._client = "http://127.0.0.1:9", None  # nothing listens there
    gateway._max_network_retries = 0
    key = f"confirm-{uuid.uuid4()}"

    down = await confirm(committed_client, approved.dealer, deal_id, key)
    gateway._api_base, gateway._client = real_base, None
    retried = await confirm(committed_client, approved.dealer, deal_id, key)

    assert down.status_code == 503
    assert down.json()["error"]["code"] == "payment_provider_unavailable"
    assert retried.status_code == 200, retried.text
    assert gateway.created == 1


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
