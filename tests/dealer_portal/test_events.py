"""The dealer portal writes its webhook events with the change: ``deal.submitted`` when the
dealer confirms (the approval is consumed and the loan booked with the lender) and
``deal.handed_over`` when the down payment is paid, to the dealer and the lender."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.models import DealerDeal
from shared.webhooks.models import WebhookEvent
from tests.dealer_portal.conftest import (
    approved_buyer,
    confirm,
    intent_object,
    quoted_deal,
    signed_event,
)


async def deal_events(session: AsyncSession, deal_id: str) -> list[WebhookEvent]:
    rows = await session.scalars(
        select(WebhookEvent)
        .where(col(WebhookEvent.data)["deal_id"].astext == deal_id)
        .order_by(col(WebhookEvent.created_at))
    )
    return list(rows)


async def test_a_deal_tells_its_dealer_and_lender_when_submitted_and_handed_over(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    deal_id = await quoted_deal(client, approved)
    assert await deal_events(session, deal_id) == []  # a quote is not a submission

    confirmed = await confirm(client, approved.dealer, deal_id)
    assert confirmed.status_code == 200, confirmed.text
    deal = await session.get(DealerDeal, uuid.UUID(deal_id))
    assert deal is not None
    [submitted] = await deal_events(session, deal_id)
    assert submitted.type == "deal.submitted"
    assert sorted(submitted.organization_ids) == sorted([deal.dealer_id, deal.lender_id])
    assert submitted.data["status"] == "confirmed"
    assert submitted.data["loan_id"] == confirmed.json()["loan_id"]

    paid = intent_object(
        confirmed.json()["deal"]
        | {"payment_intent_id": confirmed.json()["down_payment"]["payment_intent_id"]}
    )
    for _ in range(2):  # Stripe may send it twice: the car is handed over, and told, once
        payload, headers = signed_event("payment_intent.succeeded", paid)
        response = await client.post("/v1/stripe/webhook", content=payload, headers=headers)
        assert response.status_code == 200
    events = await deal_events(session, deal_id)
    assert [e.type for e in events] == ["deal.submitted", "deal.handed_over"]
    assert events[1].data["status"] == "handed_over" and events[1].data["handed_over_at"]
    funded = await session.scalars(
        select(WebhookEvent).where(
            col(WebhookEvent.type) == "loan.funded",
            col(WebhookEvent.data)["loan_id"].astext == confirmed.json()["loan_id"],
        )
    )
    assert len(list(funded)) == 1  # the auto-funded loan, at handover
