"""The daily reconciliation settles down payments from Stripe's record, once however many runs
overlap: one paid after its deal was cancelled is refunded; one paid while no webhook came hands
the deal over."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlmodel import col

from autofin.jobs import run_reconciliation
from dealer_portal.models import DealerDeal
from shared.audit import AuditEntry
from shared.db import Database, utcnow
from tests.dealer_portal.conftest import (
    StripeLikeGateway,
    approved_buyer,
    committed_admin,
    confirm,
    intent_object,
    pay,
    quoted_deal,
    signed_event,
)
from tests.stripe_fixtures import LocalStripe


async def audited(database: Database, action: str, subject_id: str) -> int:
    async with database.sessionmaker() as session:
        result = await session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(col(AuditEntry.action) == action, col(AuditEntry.subject_id) == subject_id)
        )
        return int(result.scalar_one())


async def test_a_down_payment_paid_after_cancellation_is_refunded_once_by_concurrent_runs(
    committed_client: httpx.AsyncClient,
    committed_app: tuple[FastAPI, StripeLikeGateway],
    committed_database: Database,
    localstripe: LocalStripe,
) -> None:
    admin = await committed_admin(committed_client, committed_database)
    approved = await approved_buyer(committed_client, admin)
    deal_id = await quoted_deal(committed_client, approved)
    confirmed = (await confirm(committed_client, approved.dealer, deal_id)).json()
    payment_intent_id = confirmed["down_payment"]["payment_intent_id"]
    gateway = committed_app[1]
    # The dealer cancels while Stripe is unreachable: the deal is cancelled, its PaymentIntent
    # is not, and nobody retries the cancellation.
    real_base = gateway._api_base
    gateway._api_base, gateway._client = "http://127.0.0.1:9", None  # nothing listens there
    gateway._max_network_retries = 0
    cancelled = await committed_client.post(
        f"/v1/dealer/deals/{deal_id}/cancel", headers=approved.dealer
    )
    gateway._api_base, gateway._client = real_base, None
    assert cancelled.status_code == 503, cancelled.text
    # The buyer pays the still-open PaymentIntent; its webhook marks the money owed back.
    await pay(localstripe, payment_intent_id)
    paid = confirmed["deal"] | {"payment_intent_id": payment_intent_id}
    payload, headers = signed_event("payment_intent.succeeded", intent_object(paid))
    delivered = await committed_client.post("/v1/stripe/webhook", content=payload, headers=headers)
    assert delivered.status_code == 200, delivered.text
    owed = await committed_client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)
    assert owed.json()["down_payment_status"] == "refund_due"

    runs = await asyncio.gather(
        *(run_reconciliation(committed_database, gateway, progress=print) for _ in range(2))
    )
    again = await run_reconciliation(committed_database, gateway, progress=print)

    assert sum(run["down_payments_refunded"] for run in runs) == 1
    assert again["down_payments_refunded"] == 0
    assert gateway.refunds == 1
    deal = (
        await committed_client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)
    ).json()
    assert deal["status"] == "cancelled" and deal["down_payment_status"] == "refunded"
    assert deal["refund_id"].startswith("re_")
    refund = await localstripe.client().v1.refunds.retrieve_async(deal["refund_id"])
    assert refund.payment_intent == payment_intent_id
    assert refund.amount == confirmed["down_payment"]["amount"]
    assert await audited(committed_database, "deal.down_payment_refunded", deal_id) == 1


async def test_a_down_payment_paid_while_no_webhook_came_hands_the_deal_over_once(
    committed_client: httpx.AsyncClient,
    committed_app: tuple[FastAPI, StripeLikeGateway],
    committed_database: Database,
    localstripe: LocalStripe,
) -> None:
    admin = await committed_admin(committed_client, committed_database)
    approved = await approved_buyer(committed_client, admin)
    deal_id = await quoted_deal(committed_client, approved)
    confirmed = (await confirm(committed_client, approved.dealer, deal_id)).json()
    # The buyer pays while our server is down: Stripe's webhook never reaches us.
    await pay(localstripe, confirmed["down_payment"]["payment_intent_id"])
    gateway = committed_app[1]

    early = await run_reconciliation(committed_database, gateway, progress=print)
    async with committed_database.sessionmaker() as session, session.begin():
        await session.execute(
            update(DealerDeal)
            .where(col(DealerDeal.id) == deal_id)
            .values(updated_at=utcnow() - timedelta(minutes=5))
        )
    runs = await asyncio.gather(
        *(run_reconciliation(committed_database, gateway, progress=print) for _ in range(2))
    )
    deal = (
        await committed_client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)
    ).json()
    loan = await committed_client.get(
        f"/v1/buyer/loans/{confirmed['loan_id']}", headers=approved.buyer
    )

    assert early["down_payments_settled"] == 0  # a webhook may still be on its way
    assert sum(run["down_payments_settled"] for run in runs) == 1
    assert deal["status"] == "handed_over" and deal["down_payment_status"] == "paid"
    assert loan.json()["status"] == "active"
    assert await audited(committed_database, "deal.handed_over", deal_id) == 1
