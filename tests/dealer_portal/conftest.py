"""Dealer portal fixtures: a lender's product, an approved buyer, a dealer, and Stripe's part."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from autofin.main import create_app
from shared.audit import AuditEntry
from shared.db import Database
from shared.payments.gateway import PaymentGateway, Refund
from shared.payments.gateway import PaymentIntent as Intent
from shared.settings import get_settings
from tests.factories import (
    Headers,
    admin_headers,
    apply,
    buyer_headers,
    create_organization,
    lender_with_product,
    staff_headers,
    unique_vin,
)
from tests.stripe_fixtures import LocalStripe, dump, stripe_event, stripe_signature

VALID_VIN = "LSVAM4187C2184847"  # SAIC-Volkswagen, check digit 8 verified
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def _stripe(stripe_settings: LocalStripe) -> LocalStripe:
    """Every dealer portal test talks to the emulator (apps built afterwards point at it)."""
    return stripe_settings


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> Headers:
    return await admin_headers(client, session)


@dataclass
class Approved:
    """A buyer with an active pre-approval, and the dealer staff who will sell them a car."""

    buyer: Headers
    preapproval: dict[str, Any]
    dealer: Headers
    dealer_id: str
    admin: Headers

    @property
    def code(self) -> str:
        return str(self.preapproval["code"])

    @property
    def offer_id(self) -> str:
        return str(self.preapproval["offers"][0]["offer_id"])

    @property
    def credit_limit(self) -> int:
        return int(self.preapproval["credit_limit"])


async def new_dealer(client: httpx.AsyncClient, admin: Headers) -> tuple[str, Headers]:
    dealer = await create_organization(client, admin, "dealer")
    return str(dealer["id"]), await staff_headers(client, admin, dealer["id"])


async def approved_buyer(
    client: httpx.AsyncClient, admin: Headers, *, phone: str = PHONE, **product: object
) -> Approved:
    await lender_with_product(client, admin, **product)
    buyer = await buyer_headers(client, phone=phone)
    response = await apply(client, buyer)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["decision"] == "approved", body
    dealer_id, dealer = await new_dealer(client, admin)
    return Approved(buyer, body["preapproval"], dealer, dealer_id, admin)


def deal_body(
    approved: Approved,
    *,
    price: int = 15_000_000,
    down_payment: int = 5_000_000,
    term_months: int = 36,
    vehicle_type: str = "new",
    vin: str | None = None,
    make: str = "Volkswagen",
    verifier: str = PHONE[-4:],
) -> dict[str, Any]:
    return {
        "code": approved.code,
        "verifier": verifier,
        "vehicle": {
            "vin": vin or unique_vin(),
            "make": make,
            "model": "Passat",
            "vehicle_type": vehicle_type,
            "price": price,
        },
        "down_payment": down_payment,
        "term_months": term_months,
        "offer_id": approved.offer_id,
    }


async def quoted_deal(client: httpx.AsyncClient, approved: Approved, **overrides: Any) -> str:
    response = await client.post(
        "/v1/dealer/deals", json=deal_body(approved, **overrides), headers=approved.dealer
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def confirm(
    client: httpx.AsyncClient, headers: Headers, deal_id: str, key: str | None = None, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/dealer/deals/{deal_id}/confirm",
        json={"identity_verified": True, **body},
        headers={**headers, "Idempotency-Key": key or f"confirm-{uuid.uuid4()}"},
    )


def signed_event(
    event_type: str, intent: dict[str, Any], *, timestamp: int | None = None, secret: str = ""
) -> tuple[bytes, dict[str, str]]:
    payload = dump(stripe_event(event_type, intent))
    signature = stripe_signature(
        payload, secret or get_settings().stripe_webhook_secret, timestamp=timestamp
    )
    return payload, {"Stripe-Signature": signature, "Content-Type": "application/json"}


def intent_object(deal: dict[str, Any], status: str = "succeeded", **extra: Any) -> dict[str, Any]:
    return {
        "id": deal["payment_intent_id"],
        "object": "payment_intent",
        "amount": deal["down_payment"],
        "currency": "cny",
        "status": status,
        "metadata": {"purpose": "down_payment", "deal_id": deal["id"]},
        **extra,
    }


async def pay(localstripe: LocalStripe, payment_intent_id: str) -> None:
    """What Stripe.js does in the buyer's browser: pay the intent with a test card."""
    client = localstripe.client()
    card = await localstripe.create_card_payment_method()
    await client.v1.payment_intents.update_async(payment_intent_id, {"payment_method": card})
    await client.v1.payment_intents.confirm_async(payment_intent_id)


class StripeLikeGateway(PaymentGateway):
    """localstripe plus what it lacks — Stripe's replay of the answer for a repeated idempotency
    key — counting the PaymentIntents really created and the refunds asked for (localstripe
    makes each one a refund); ``crash_after_stripe`` makes the next create die after Stripe
    answered, before we could store the answer."""

    def __init__(self, localstripe: LocalStripe) -> None:
        super().__init__(
            api_key=localstripe.api_key,
            api_base=localstripe.base_url,
            webhook_secret=localstripe.webhook_secret,
        )
        self.answers: dict[str, Intent] = {}
        self.created = 0
        self.refunds = 0
        self.crash_after_stripe = False

    async def create_payment_intent(self, **kwargs: Any) -> Intent:
        key = kwargs["idempotency_key"]
        if key not in self.answers:
            self.answers[key] = await super().create_payment_intent(**kwargs)
            self.created += 1
        if self.crash_after_stripe:
            self.crash_after_stripe = False
            raise ConnectionResetError("the process died after Stripe answered")
        return self.answers[key]

    async def create_refund(self, **kwargs: Any) -> Refund:
        refund = await super().create_refund(**kwargs)
        self.refunds += 1
        return refund


@pytest.fixture
async def committed_app(
    committed_database: Database, localstripe: LocalStripe
) -> AsyncIterator[tuple[FastAPI, StripeLikeGateway]]:
    """The app on a committed database of its own, for races and crashes."""
    gateway = StripeLikeGateway(localstripe)
    yield create_app(committed_database, payment_gateway=gateway), gateway
    await gateway.aclose()


@pytest.fixture
async def committed_client(
    committed_app: tuple[FastAPI, StripeLikeGateway],
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=committed_app[0], raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def committed_admin(client: httpx.AsyncClient, database: Database) -> Headers:
    async with database.sessionmaker() as session:
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
