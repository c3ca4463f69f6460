"""Deals on products that do not auto-fund, as the decision-flow tests build them: the parties,
a confirmed deal, and the calls each step makes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import httpx

from tests.dealer_portal.conftest import confirm, deal_body, intent_object, new_dealer, signed_event
from tests.factories import (
    Headers,
    apply,
    buyer_headers,
    fresh_phone,
    lender_with_product,
    sms_code,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
MANUAL = {"auto_fund": False}


@dataclass
class Manual:
    """A buyer with a pre-approval on a lender's product that does not auto-fund, a dealer,
    and the lender's staff."""

    buyer: Headers
    phone: str
    preapproval: dict[str, Any]
    dealer: Headers
    lender: Headers
    lender_id: str
    product: dict[str, Any]
    admin: Headers

    def deal_body(self, **overrides: Any) -> dict[str, Any]:
        body = deal_body(_Approved(self), verifier=self.phone[-4:], **overrides)
        return body


@dataclass
class _Approved:  # what conftest's ``deal_body`` reads
    manual: Manual

    @property
    def code(self) -> str:
        return str(self.manual.preapproval["code"])

    @property
    def offer_id(self) -> str:  # the offer on this lender's product (others may exist)
        offers = self.manual.preapproval["offers"]
        product = self.manual.product["id"]
        return str(next(o["offer_id"] for o in offers if o["product_id"] == product))


async def manual_setup(client: httpx.AsyncClient, admin: Headers, **product: Any) -> Manual:
    lender, lender_staff, created = await lender_with_product(client, admin, **(MANUAL | product))
    phone = fresh_phone()
    buyer = await buyer_headers(client, phone=phone)
    response = await apply(client, buyer)
    assert response.status_code == 201, response.text
    preapproval = response.json()["preapproval"]
    _, dealer = await new_dealer(client, admin)
    return Manual(
        buyer, phone, preapproval, dealer, lender_staff, str(lender["id"]), created, admin
    )


@dataclass
class Confirmed:
    deal_id: str
    loan_id: str
    intent: dict[str, Any]  # the down payment's PaymentIntent as Stripe's events carry it


async def confirmed_deal(client: httpx.AsyncClient, m: Manual, **overrides: Any) -> Confirmed:
    quoted = await client.post("/v1/dealer/deals", json=m.deal_body(**overrides), headers=m.dealer)
    assert quoted.status_code == 201, quoted.text
    deal_id = quoted.json()["id"]
    answer = await confirm(client, m.dealer, deal_id)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    deal = body["deal"] | {"payment_intent_id": body["down_payment"]["payment_intent_id"]}
    return Confirmed(deal_id, body["loan_id"], intent_object(deal))


async def deliver_paid(client: httpx.AsyncClient, intent: dict[str, Any]) -> None:
    payload, headers = signed_event("payment_intent.succeeded", intent)
    response = await client.post("/v1/stripe/webhook", content=payload, headers=headers)
    assert response.status_code == 200, response.text


async def dealer_deal(client: httpx.AsyncClient, m: Manual, deal_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/dealer/deals/{deal_id}", headers=m.dealer)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def decide(client: httpx.AsyncClient, m: Manual, deal_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"/v1/lender/deals/{deal_id}/decision", json=body, headers=m.lender)


async def contract(client: httpx.AsyncClient, m: Manual, loan_id: str) -> bytes:
    response = await client.get(f"/v1/buyer/loans/{loan_id}/contract", headers=m.buyer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


async def sign(
    client: httpx.AsyncClient, m: Manual, loan_id: str, sha256: str, code: str | None = None
) -> httpx.Response:
    code = code or await sms_code(client, m.phone, "sign")
    return await client.post(
        f"/v1/buyer/loans/{loan_id}/contract/sign",
        json={"sms_code": code, "sha256": sha256},
        headers=m.buyer,
    )


async def upload(
    client: httpx.AsyncClient,
    headers: Headers,
    role: str,
    deal_id: str,
    data: bytes,
    stipulation_id: str | None = None,
    name: str = "scan.pdf",
) -> httpx.Response:
    form = {"stipulation_id": stipulation_id} if stipulation_id else {}
    return await client.post(
        f"/v1/{role}/deals/{deal_id}/documents",
        files={"file": (name, data, "application/octet-stream")},
        data=form,
        headers=headers,
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
