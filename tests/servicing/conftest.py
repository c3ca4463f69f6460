"""Servicing tests: loans booked through ``book_loan`` on a real pre-approval's locked offer
(the dealer portal books them in production), repaid through the real Stripe SDK against
localstripe, with webhooks signed the way Stripe signs them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.preapprovals.models import LockedOffer, Preapproval
from marketplace.products.models import ProductVersion
from marketplace.servicing import ledger_check, service
from marketplace.servicing.models import Loan
from shared.identity.principal import Principal
from tests.factories import (
    Headers,
    admin_headers,
    apply,
    buyer_headers,
    create_organization,
    lender_with_product,
    unique_vin,
)
from tests.stripe_fixtures import LocalStripe, dump, stripe_event, stripe_signature

PRINCIPAL = 10_000_000  # ¥100,000
TERM = 12


@pytest.fixture(autouse=True)
def _stripe(stripe_settings: LocalStripe) -> LocalStripe:
    return stripe_settings


@dataclass
class Booked:
    loan_id: uuid.UUID
    buyer: Headers
    lender: Headers
    lender_id: uuid.UUID
    offer: LockedOffer


BookLoan = Callable[..., Awaitable[Booked]]


def today() -> date:
    return date.today()


async def book(
    client: httpx.AsyncClient,
    session: AsyncSession,
    *,
    loan_date: date | None = None,
    admin: Headers | None = None,
    activate: bool = True,
    principal: int = PRINCIPAL,
    **product: Any,
) -> Booked:
    """A lender, a product, a buyer pre-approved on it, and a loan booked on the locked offer."""
    admin = admin or await admin_headers(client, session)
    lender, lender_staff, _ = await lender_with_product(client, admin, **product)
    dealer = await create_organization(client, admin, "dealer")
    buyer = await buyer_headers(client)
    response = await apply(client, buyer)
    assert response.status_code == 201, response.text
    preapproval_id = uuid.UUID(response.json()["preapproval"]["id"])
    preapproval = await session.get(Preapproval, preapproval_id)
    assert preapproval is not None
    offer = (
        await session.execute(
            select(LockedOffer).where(
                col(LockedOffer.preapproval_id) == preapproval_id,
                col(LockedOffer.lender_id) == uuid.UUID(str(lender["id"])),
            )
        )
    ).scalar_one()
    version = await session.get(ProductVersion, offer.product_version_id)
    assert version is not None
    dealer_id = uuid.UUID(str(dealer["id"]))
    actor = Principal(role="dealer", user_id=uuid.uuid4(), organization_id=dealer_id)
    loan = await service.book_loan(
        session,
        actor,
        preapproval_id=preapproval_id,
        offer_id=offer.id,
        product_version_id=offer.product_version_id,
        lender_id=offer.lender_id,
        buyer_id=preapproval.buyer_id,
        dealer_id=dealer_id,
        principal=min(principal, offer.amount),
        annual_rate=offer.annual_rate,
        term_months=TERM,
        method=version.method,
        upfront_fee=version.upfront_fee,
        grade=preapproval.grade,
        platform_guarantee=version.platform_guarantee,
        auto_fund=version.auto_fund,
        loan_date=loan_date or today(),
        vehicle={
            "vin": unique_vin("LGXC16DF5P1000000"),
            "make": "BYD",
            "model": "Han",
            "price": 15_000_000,
        },
    )
    if activate:
        assert await service.activate_at_handover(session, actor, loan.id) is not None
    await session.commit()
    return Booked(loan.id, buyer, lender_staff, offer.lender_id, offer)


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> Headers:
    return await admin_headers(client, session)


@pytest.fixture
def book_loan(client: httpx.AsyncClient, session: AsyncSession, admin: Headers) -> BookLoan:
    async def booked(**options: Any) -> Booked:
        return await book(client, session, admin=admin, **options)

    return booked


async def save_card(client: httpx.AsyncClient, buyer: Headers, localstripe: LocalStripe) -> str:
    payment_method = await localstripe.create_card_payment_method()
    response = await client.post(
        "/v1/buyer/payment-methods", json={"payment_method": payment_method}, headers=buyer
    )
    assert response.status_code == 201, response.text
    return str(response.json()["payment_method_id"])


async def pay(
    client: httpx.AsyncClient, buyer: Headers, loan_id: uuid.UUID, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/v1/buyer/loans/{loan_id}/payments",
        json=body,
        headers={**buyer, "Idempotency-Key": uuid.uuid4().hex},
    )


async def succeeded_event_for(localstripe: LocalStripe, payment_intent_id: str) -> dict[str, Any]:
    """``payment_intent.succeeded`` as Stripe would send it, built from the real intent."""
    intent = await localstripe.client().v1.payment_intents.retrieve_async(payment_intent_id)
    return stripe_event("payment_intent.succeeded", intent.to_dict())


def signed(event: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    payload = dump(event)
    return payload, {
        "Stripe-Signature": stripe_signature(payload, secret),
        "Content-Type": "application/json",
    }


async def deliver(
    client: httpx.AsyncClient, localstripe: LocalStripe, event: dict[str, Any]
) -> httpx.Response:
    payload, headers = signed(event, localstripe.webhook_secret)
    return await client.post("/v1/stripe/webhook", content=payload, headers=headers)


async def all_loans_reconcile(session: AsyncSession) -> int:
    """Every loan's ledger agrees with its schedule rows to the fen; how many were checked."""
    loan_ids = (await session.execute(select(col(Loan.id)))).scalars().all()
    for loan_id in loan_ids:
        check = await ledger_check.reconcile(session, loan_id)
        assert check.differences == [], (loan_id, check.differences)
    return len(loan_ids)


def days_ago(days: int) -> date:
    return today() - timedelta(days=days)
