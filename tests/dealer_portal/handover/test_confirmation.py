"""Confirm exactly once: the approval consumed by one confirm of any number racing, the loan booked,
the down payment asked of Stripe once, a crash or an outage resumed by the retry."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.models import DealerDeal
from marketplace.servicing.models import Loan
from shared.db import Database
from tests.dealer_portal.conftest import (
    Approved,
    StripeLikeGateway,
    approved_buyer,
    audited,
    committed_admin,
    confirm,
    count,
    deal_body,
    new_dealer,
    quoted_deal,
)
from tests.stripe_fixtures import LocalStripe


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
    assert await audited(session, "deal.down_payment_requested", deal_id) == 1


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
