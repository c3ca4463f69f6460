"""Funding fixtures: a deal on a product the lender funds itself, brought through every gate,
and a transfer gateway that counts what reached "Stripe"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from shared.payments.gateway import Transfer
from shared.payments.transfers import SandboxTransfers
from tests.dealer_portal.conftest import new_dealer
from tests.dealer_portal.decisions.conftest import (
    MANUAL,
    PDF,
    Confirmed,
    Manual,
    confirmed_deal,
    contract,
    deliver_paid,
    sha,
    sign,
    upload,
)
from tests.factories import Headers, apply, buyer_headers, fresh_phone, lender_with_product

ACCOUNT = "acct_1DealerTest0001"
MATCHING = {"max_amount": 50_000_000, "max_ltv": "0.9"}  # auto-approves the test deals


@dataclass
class Lot:
    """A lender's product that it funds itself, a buyer approved on it, a dealer."""

    m: Manual
    dealer_id: str
    lender_name: str
    lender_uscc: str


async def lot(client: httpx.AsyncClient, admin: Headers, **product: Any) -> Lot:
    lender, lender_staff, created = await lender_with_product(
        client, admin, **(MANUAL | {"auto_approve": MATCHING} | product)
    )
    phone = fresh_phone()
    buyer = await buyer_headers(client, phone=phone)
    response = await apply(client, buyer)
    assert response.status_code == 201, response.text
    dealer_id, dealer = await new_dealer(client, admin)
    manual = Manual(
        buyer,
        phone,
        response.json()["preapproval"],
        dealer,
        lender_staff,
        str(lender["id"]),
        created,
        admin,
    )
    return Lot(manual, dealer_id, str(lender["name"]), str(lender["uscc"]))


async def connect(client: httpx.AsyncClient, admin: Headers, dealer_id: str) -> None:
    response = await client.put(
        f"/v1/admin/dealers/{dealer_id}/payout-account",
        json={"stripe_account_id": ACCOUNT},
        headers=admin,
    )
    assert response.status_code == 200, response.text


async def insure(
    client: httpx.AsyncClient,
    lot: Lot,
    deal_id: str,
    *,
    beneficiary: str | None,
    expires_on: date | None = None,
) -> httpx.Response:
    document = await upload(client, lot.m.dealer, "dealer", deal_id, PDF)
    assert document.status_code in (200, 201), document.text
    body: dict[str, Any] = {
        "insurer": "中国人保",
        "policy_number": "PDAA2026",
        "expires_on": str(expires_on or date.today() + timedelta(days=365)),
        "document_id": document.json()["id"],
    }
    if beneficiary is not None:
        body["first_beneficiary"] = beneficiary
    return await client.post(
        f"/v1/dealer/deals/{deal_id}/insurance", json=body, headers=lot.m.dealer
    )


async def ready_deal(client: httpx.AsyncClient, lot: Lot, *, insured: bool = True) -> Confirmed:
    """A confirmed deal with every gate held: approved, paid, signed, insured for the lender
    (all but the insurance unless ``insured``)."""
    deal = await confirmed_deal(client, lot.m)
    await deliver_paid(client, deal.intent)
    pdf = await contract(client, lot.m, deal.loan_id)
    signed = await sign(client, lot.m, deal.loan_id, sha(pdf))
    assert signed.status_code == 200, signed.text
    if insured:
        policy = await insure(client, lot, deal.deal_id, beneficiary=lot.lender_name)
        assert policy.status_code == 200, policy.text
    return deal


async def fund(client: httpx.AsyncClient, lot: Lot, loan_id: str) -> httpx.Response:
    return await client.post(f"/v1/lender/loans/{loan_id}/fund", headers=lot.m.lender)


class RecordingTransfers(SandboxTransfers):
    """The sandbox, counting every call and the transfers really made (one per idempotency
    key, as Stripe replays a repeated key); ``die_after_transfer`` makes the next call die
    after "Stripe" answered, before the answer could be recorded."""

    def __init__(self) -> None:
        self.calls = 0
        self.made: dict[str, Transfer] = {}
        self.die_after_transfer = False

    async def create_transfer(
        self,
        *,
        amount: int,
        destination: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: Mapping[str, str],
    ) -> Transfer:
        self.calls += 1
        transfer = await super().create_transfer(
            amount=amount,
            destination=destination,
            idempotency_key=idempotency_key,
            transfer_group=transfer_group,
            metadata=metadata,
        )
        self.made.setdefault(idempotency_key, transfer)
        if self.die_after_transfer:
            self.die_after_transfer = False
            raise ConnectionResetError("the process died after Stripe answered")
        return transfer
