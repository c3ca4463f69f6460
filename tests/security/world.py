"""Two of every tenant, built through the real API (and the servicing service for a loan), for
the attack suite: each side has a lender (staff, a product), a dealer (staff, an API key, a
quoted deal), a buyer (application, consents, pre-approval, a loan from that side's lender
sold by that side's dealer) and an advisor advising that buyer; one platform admin.

``Side.ids`` maps the *kind* of an id (the name a path parameter or body field uses for it,
``loan_id``) to the side's own one; ``tests/security/declarations.py`` says which kinds are
tenant-private and how a route's other parameters are filled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.preapprovals.models import LockedOffer, Preapproval, PreapprovalLookup
from marketplace.products.models import ProductVersion
from marketplace.servicing import service as servicing
from shared.identity.principal import Principal
from tests.factories import (
    PASSWORD,
    Headers,
    admin_headers,
    api_key_headers,
    apply,
    buyer_headers,
    create_organization,
    fresh_phone,
    lender_with_product,
    login,
    staff_headers,
    unique_email,
    unique_vin,
)

VIN = "LGXC16DF5P1054249"


@dataclass
class Side:
    """One side's logins, the ids it owns, and the personal data it was built with."""

    name: str
    callers: dict[str, Headers] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    phone: str = ""
    code: str = ""


@dataclass
class World:
    admin: Headers
    sides: dict[str, Side]

    def callers(self) -> list[tuple[str, Headers]]:
        """(label, headers) for every caller: each role of side A, the admin, and a stranger."""
        a = self.sides["a"]
        return [(f"{role}:a", headers) for role, headers in a.callers.items()] + [
            ("admin", self.admin),
            ("anonymous", {}),
        ]


def _ok(response: httpx.Response, status: int = 201) -> dict[str, object]:
    assert response.status_code == status, (response.request.url, response.text)
    body: dict[str, object] = response.json()
    return body


async def _advisor(client: httpx.AsyncClient, admin: Headers) -> Headers:
    email = unique_email("advisor")
    _ok(
        await client.post(
            "/v1/admin/advisors",
            json={"email": email, "password": PASSWORD, "full_name": "王顾问"},
            headers=admin,
        )
    )
    return await login(client, email)


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def _side(
    name: str, client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> Side:
    side = Side(name)
    # An advisor before the buyer applies: the buyer goes to the least loaded one, this one.
    side.callers["advisor"] = await _advisor(client, admin)
    lender, lender_staff, product = await lender_with_product(client, admin)
    dealer = await create_organization(client, admin, "dealer")
    side.callers["lender"] = lender_staff
    side.callers["dealer"] = await staff_headers(client, admin, dealer["id"])
    side.callers["dealer_key"] = await api_key_headers(client, admin, dealer["id"])
    listed = await client.get(f"/v1/admin/organizations/{dealer['id']}/api-keys", headers=admin)
    keys = listed.json()
    assert listed.status_code == 200 and isinstance(keys, list) and keys, listed.text
    side.phone = fresh_phone()
    side.callers["buyer"] = buyer = await buyer_headers(client, phone=side.phone)
    applied = _ok(await apply(client, buyer))
    preapproval = applied["preapproval"]
    assert isinstance(preapproval, dict), applied
    side.code = str(preapproval["code"])
    me = _ok(await client.get("/v1/auth/me", headers=buyer), 200)
    consents = _ok(await client.get("/v1/buyer/consents", headers=buyer), 200)
    offer = next(o for o in preapproval["offers"] if o["lender_id"] == lender["id"])
    deal = _ok(
        await client.post(
            "/v1/dealer/deals",
            json={
                "code": side.code,
                "verifier": side.phone[-4:],
                "vehicle": {
                    "vin": VIN,
                    "make": "BYD",
                    "model": "Han",
                    "vehicle_type": "new",
                    "price": 15_000_000,
                },
                "down_payment": 5_000_000,
                "term_months": 36,
                "offer_id": offer["offer_id"],
            },
            headers=side.callers["dealer"],
        )
    )
    message = _ok(await client.post("/v1/buyer/messages", json={"body": "你好"}, headers=buyer))
    document = _ok(
        await client.post(
            f"/v1/dealer/deals/{deal['id']}/documents",
            files={"file": ("scan.pdf", PDF, "application/pdf")},
            headers=side.callers["dealer"],
        )
    )
    endpoint = _ok(
        await client.post(
            "/v1/dealer/webhook-endpoints",
            json={"url": "http://127.0.0.1:9/hooks", "events": ["deal.submitted"]},
            headers=side.callers["dealer"],
        )
    )
    lookup_id = (
        (
            await session.execute(
                select(col(PreapprovalLookup.id)).where(
                    col(PreapprovalLookup.preapproval_id) == uuid.UUID(str(preapproval["id"]))
                )
            )
        )
        .scalars()
        .first()
    )
    loan_id = await _loan(session, uuid.UUID(str(preapproval["id"])), lender["id"], dealer["id"])
    items = consents["items"] if isinstance(consents, dict) else consents
    assert isinstance(items, list) and items, consents
    side.ids = {
        "lender_id": str(lender["id"]),
        "dealer_id": str(dealer["id"]),
        "organization_id": str(dealer["id"]),
        "product_id": str(product["id"]),
        "buyer_id": str(me["user_id"]),
        "application_id": str(applied["id"]),
        "preapproval_id": str(preapproval["id"]),
        "consent_id": str(items[0]["id"]),
        "offer_id": str(offer["offer_id"]),
        "deal_id": str(deal["id"]),
        "loan_id": str(loan_id),
        "key_id": str(keys[0]["id"]),
        "message_id": str(message["id"]),
        "document_id": str(document["id"]),
        "endpoint_id": str(endpoint["id"]),
        "lookup_id": str(lookup_id),
        # No delivery or stipulation exists on an auto-funded deal without a receiver: a fresh
        # id stands in (the other side's answer must still be 404, never 5xx).
        "delivery_id": str(uuid.uuid4()),
        "stipulation_id": str(uuid.uuid4()),
    }
    return side


async def _loan(
    session: AsyncSession, preapproval_id: uuid.UUID, lender_id: object, dealer_id: object
) -> uuid.UUID:
    """A loan booked on the side's own lender's offer, as the dealer portal books one."""
    preapproval = await session.get(Preapproval, preapproval_id)
    assert preapproval is not None
    offer = (
        await session.execute(
            select(LockedOffer).where(
                col(LockedOffer.preapproval_id) == preapproval_id,
                col(LockedOffer.lender_id) == uuid.UUID(str(lender_id)),
            )
        )
    ).scalar_one()
    version = await session.get(ProductVersion, offer.product_version_id)
    assert version is not None
    dealer = uuid.UUID(str(dealer_id))
    actor = Principal(role="dealer", user_id=uuid.uuid4(), organization_id=dealer)
    loan = await servicing.book_loan(
        session,
        actor,
        preapproval_id=preapproval_id,
        offer_id=offer.id,
        product_version_id=offer.product_version_id,
        lender_id=offer.lender_id,
        buyer_id=preapproval.buyer_id,
        dealer_id=dealer,
        principal=min(10_000_000, offer.amount),
        annual_rate=offer.annual_rate,
        term_months=12,
        method=version.method,
        upfront_fee=version.upfront_fee,
        grade=preapproval.grade,
        platform_guarantee=version.platform_guarantee,
        auto_fund=version.auto_fund,
        loan_date=date.today(),
        vehicle={"vin": unique_vin(VIN), "make": "BYD", "model": "Han", "price": 15_000_000},
    )
    assert await servicing.activate_at_handover(session, actor, loan.id) is not None
    await session.commit()
    return loan.id


async def build_world(client: httpx.AsyncClient, session: AsyncSession) -> World:
    admin = await admin_headers(client, session)
    sides = {name: await _side(name, client, session, admin) for name in ("a", "b")}
    return World(admin, sides)
