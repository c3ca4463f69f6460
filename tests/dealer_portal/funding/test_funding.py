"""Funding a loan the lender funds itself: refused while any gate is open, then funded once, its
schedule from the funding day, the dealer paid the principal less the dealer fee."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.funding import payouts
from dealer_portal.funding.models import Disbursement
from pricing import due_dates
from shared.db import utcnow
from shared.payments.gateway import PaymentProviderUnavailable, Transfer
from shared.webhooks.models import WebhookEvent
from tests.dealer_portal.conftest import confirm
from tests.dealer_portal.decisions.conftest import (
    confirmed_deal,
    contract,
    deliver_paid,
    sha,
    sign,
)
from tests.dealer_portal.funding.conftest import (
    ACCOUNT,
    Lot,
    RecordingTransfers,
    connect,
    fund,
    insure,
    lot,
)
from tests.factories import Headers, lender_with_product, unique_vin

DEALER_FEE = 300_000  # ¥3,000


async def gates_of(client: httpx.AsyncClient, headers: Headers, loan_id: str) -> list[str]:
    seen = await client.get(f"/v1/lender/loans/{loan_id}/funding", headers=headers)
    assert seen.status_code == 200, seen.text
    return [g["name"] for g in seen.json()["gates"] if not g["satisfied"]]


async def test_funding_waits_for_every_gate_then_funds_once_and_pays_the_dealer(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    s = await lot(client, admin, dealer_fee=DEALER_FEE)
    await connect(client, admin, s.dealer_id)
    deal = await confirmed_deal(client, s.m)
    lender = s.m.lender

    async def refused_with() -> list[str]:
        refused = await fund(client, s, deal.loan_id)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "funding_gates_open"
        gates: list[str] = refused.json()["error"]["gates"]
        assert gates == await gates_of(client, lender, deal.loan_id)
        return gates

    assert await refused_with() == ["contract_signed", "down_payment", "insurance"]
    await deliver_paid(client, deal.intent)
    assert await refused_with() == ["contract_signed", "insurance"]
    pdf = await contract(client, s.m, deal.loan_id)
    assert (await sign(client, s.m, deal.loan_id, sha(pdf))).status_code == 200
    assert await refused_with() == ["insurance"]
    # A policy that names nobody, or someone else, as first beneficiary does not do; nor does
    # an expired one.
    for beneficiary, expires in (
        (None, None),
        ("另一家银行", None),
        (s.lender_name, date(2020, 1, 1)),
    ):
        insured = await insure(client, s, deal.deal_id, beneficiary=beneficiary, expires_on=expires)
        assert insured.status_code == 200, insured.text
        assert await refused_with() == ["insurance"]
    insured = await insure(client, s, deal.deal_id, beneficiary=f" {s.lender_uscc} ")
    assert insured.json()["insurance"]["first_beneficiary"] == s.lender_uscc
    view = (await client.get(f"/v1/lender/loans/{deal.loan_id}/funding", headers=lender)).json()
    assert view["ready"] is True and view["disbursement"] is None
    assert [g["name"] for g in view["gates"]] == [
        "decision",
        "contract_signed",
        "stipulations",
        "down_payment",
        "insurance",
    ]

    funded = await fund(client, s, deal.loan_id)
    assert funded.status_code == 200, funded.text
    loan, disbursement = funded.json()["loan"], funded.json()["disbursement"]
    assert loan["status"] == "active" and loan["funded_at"]
    today = utcnow().date()
    assert loan["loan_date"] == today.isoformat()
    assert [r["due_date"] for r in loan["schedule"]] == [
        d.isoformat() for d in due_dates(today, loan["term_months"])
    ]
    assert disbursement["amount"] == loan["principal"] - DEALER_FEE
    assert disbursement["dealer_fee"] == DEALER_FEE
    assert disbursement["status"] == "paid"
    assert disbursement["transfer_id"].startswith("tr_sandbox_")

    again = await fund(client, s, deal.loan_id)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "loan_not_pending_funding"
    _, other_lender, _ = await lender_with_product(client, admin)
    other = await client.post(f"/v1/lender/loans/{deal.loan_id}/fund", headers=other_lender)
    assert other.status_code == 404
    hidden = await client.get(f"/v1/lender/loans/{deal.loan_id}/funding", headers=other_lender)
    assert hidden.status_code == 404

    dealer_view = await client.get(f"/v1/dealer/deals/{deal.deal_id}/funding", headers=s.m.dealer)
    assert dealer_view.status_code == 200, dealer_view.text
    assert dealer_view.json()["loan_status"] == "active"
    assert dealer_view.json()["disbursement"]["transfer_id"] == disbursement["transfer_id"]
    rows = (
        await session.execute(
            select(Disbursement).where(col(Disbursement.loan_id) == uuid.UUID(deal.loan_id))
        )
    ).scalars()
    [row] = list(rows)
    assert row.destination == ACCOUNT
    events = await session.scalars(
        select(WebhookEvent).where(
            col(WebhookEvent.type) == "loan.funded",
            col(WebhookEvent.data)["loan_id"].astext == deal.loan_id,
        )
    )
    assert len(list(events)) == 1


async def test_the_product_names_its_gates_and_a_waiting_decision_is_always_one(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    s = await lot(client, admin, funding_gates=[], auto_approve=None)
    deal = await confirmed_deal(client, s.m)
    assert await gates_of(client, s.m.lender, deal.loan_id) == ["decision", "down_payment"]
    approved = await client.post(
        f"/v1/lender/deals/{deal.deal_id}/decision",
        json={"decision": "approve"},
        headers=s.m.lender,
    )
    assert approved.status_code == 200, approved.text
    await deliver_paid(client, deal.intent)
    # No gates of its own: approved and paid is enough (the contract is the handover's).
    funded = await fund(client, s, deal.loan_id)
    assert funded.status_code == 200, funded.text
    # The dealer has no connected account: the platform records what is owed, pays nothing.
    assert funded.json()["disbursement"]["status"] == "not_connected"
    assert funded.json()["disbursement"]["transfer_id"] is None


async def test_open_stipulations_keep_the_gate_open(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    s = await lot(client, admin, funding_gates=["stipulations"], auto_approve=None)
    deal = await confirmed_deal(client, s.m)
    conditions = await client.post(
        f"/v1/lender/deals/{deal.deal_id}/decision",
        json={"decision": "conditions", "stipulations": [{"type": "proof_of_income"}]},
        headers=s.m.lender,
    )
    assert conditions.status_code == 200, conditions.text
    assert await gates_of(client, s.m.lender, deal.loan_id) == [
        "decision",
        "stipulations",
        "down_payment",
    ]


async def test_an_auto_funded_handover_records_the_disbursement_and_jobs_pay_it(
    client: httpx.AsyncClient, admin: Headers, app: FastAPI
) -> None:
    s = await lot(client, admin, auto_fund=True, auto_approve=None, dealer_fee=DEALER_FEE)
    await connect(client, admin, s.dealer_id)
    deal = await confirmed_deal(client, s.m)
    view = (await client.get(f"/v1/lender/loans/{deal.loan_id}/funding", headers=s.m.lender)).json()
    assert view["auto_fund"] is True and view["gates"] == [] and view["ready"] is False
    refused = await fund(client, s, deal.loan_id)
    assert refused.json()["error"]["code"] == "loan_auto_funded"
    await deliver_paid(client, deal.intent)
    seen = (await client.get(f"/v1/dealer/deals/{deal.deal_id}/funding", headers=s.m.dealer)).json()
    assert seen["loan_status"] == "active"
    assert seen["disbursement"]["status"] == "pending"

    database = app.state.database
    # Stripe unreachable: left pending, unclaimed, for the next run.
    unreachable = await payouts.pay_pending(database, UnreachableTransfers())
    assert unreachable == {"paid": 0, "failed": 0, "left": 1}
    transfers = RecordingTransfers()
    assert await payouts.pay_pending(database, transfers) == {"paid": 1, "failed": 0, "left": 0}
    assert await payouts.pay_pending(database, transfers) == {"paid": 0, "failed": 0, "left": 0}
    assert transfers.calls == 1
    seen = (await client.get(f"/v1/dealer/deals/{deal.deal_id}/funding", headers=s.m.dealer)).json()
    assert seen["disbursement"]["status"] == "paid"
    assert seen["disbursement"]["amount"] == seen["disbursement"]["principal"] - DEALER_FEE


class UnreachableTransfers(RecordingTransfers):
    async def create_transfer(self, **kwargs: Any) -> Transfer:
        raise PaymentProviderUnavailable()


async def test_a_car_backs_one_live_loan(client: httpx.AsyncClient, admin: Headers) -> None:
    first, second = await lot(client, admin), await lot(client, admin)
    vin = unique_vin()
    confirmed = await confirm(client, first.m.dealer, await quoted(client, first, vin))
    assert confirmed.status_code == 200, confirmed.text
    deal_id = await quoted(client, second, vin)
    refused = await confirm(client, second.m.dealer, deal_id)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "vin_already_financed"
    # Once the first deal is cancelled, the car is free to finance again.
    cancelled = await client.post(
        f"/v1/dealer/deals/{confirmed.json()['deal']['id']}/cancel", headers=first.m.dealer
    )
    assert cancelled.status_code == 200, cancelled.text
    deal_id = await quoted(client, second, vin)
    assert (await confirm(client, second.m.dealer, deal_id)).status_code == 200


async def quoted(client: httpx.AsyncClient, s: Lot, vin: str) -> str:
    response = await client.post(
        "/v1/dealer/deals", json=s.m.deal_body(vin=vin), headers=s.m.dealer
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_only_the_platform_sets_a_dealers_payout_account(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    s = await lot(client, admin)
    path = f"/v1/admin/dealers/{s.dealer_id}/payout-account"
    for bad in ("acct_", "ba_123", "acct_12 34"):
        refused = await client.put(path, json={"stripe_account_id": bad}, headers=admin)
        assert refused.status_code == 422, bad
    as_dealer = await client.put(path, json={"stripe_account_id": ACCOUNT}, headers=s.m.dealer)
    assert as_dealer.status_code == 403
    lender_org = f"/v1/admin/dealers/{s.m.lender_id}/payout-account"
    missing = await client.put(lender_org, json={"stripe_account_id": ACCOUNT}, headers=admin)
    assert missing.status_code == 404
    await connect(client, admin, s.dealer_id)


async def test_a_dealer_fee_must_leave_the_dealer_something(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    _, staff, product = await lender_with_product(client, admin)
    too_high = await client.patch(
        f"/v1/lender/products/{product['id']}",
        json={"dealer_fee": product["min_amount"]},
        headers=staff,
    )
    assert too_high.status_code == 422
    assert too_high.json()["error"]["field"] == "dealer_fee"
    fine = await client.patch(
        f"/v1/lender/products/{product['id']}", json={"dealer_fee": 1_000}, headers=staff
    )
    assert fine.status_code == 200 and fine.json()["dealer_fee"] == 1_000
