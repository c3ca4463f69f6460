"""The decision's gate: an auto-fund deal never waits, auto-approve rules, and the three
handover conditions resolving once under races."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.audit import AuditEntry
from shared.db import Database
from shared.webhooks.models import WebhookEvent
from tests.dealer_portal.conftest import StripeLikeGateway, committed_admin
from tests.dealer_portal.decisions.conftest import (
    PDF,
    confirmed_deal,
    contract,
    dealer_deal,
    decide,
    deliver_paid,
    manual_setup,
    sha,
    sign,
    upload,
)
from tests.factories import Headers, sms_code

# -- auto-fund products: unchanged ---------------------------------------------------------------


async def test_an_auto_fund_product_deal_is_handed_over_at_payment_with_no_decision(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    m = await manual_setup(client, admin, auto_fund=True)
    deal = await confirmed_deal(client, m)
    assert (await dealer_deal(client, m, deal.deal_id))["decision"] is None
    queue = await client.get("/v1/lender/deals", headers=m.lender)
    assert queue.json()["total"] == 0
    await deliver_paid(client, deal.intent)
    assert (await dealer_deal(client, m, deal.deal_id))["status"] == "handed_over"
    refused = await sign(client, m, deal.loan_id, "0" * 64, code="123456")
    assert refused.status_code == 409, refused.text


async def test_auto_approve_rules_that_do_not_match_leave_the_deal_waiting_with_a_clock(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    m = await manual_setup(client, admin, auto_approve={"max_amount": 5_000_000})
    deal = await confirmed_deal(client, m)
    decision = (await dealer_deal(client, m, deal.deal_id))["decision"]
    assert decision["status"] == "decision_required" and decision["due_at"] is not None
    assert decision["overdue"] is False
    queue = await client.get("/v1/lender/deals?status=decision_required", headers=m.lender)
    assert [d["id"] for d in queue.json()["items"]] == [deal.deal_id]
    assert queue.json()["items"][0]["decision"]["due_at"] == decision["due_at"]
    # Not signable before the decision; the handover waits for it.
    pdf = await contract(client, m, deal.loan_id)
    early = await sign(client, m, deal.loan_id, sha(pdf), code="123456")
    assert early.status_code == 409 and early.json()["error"]["code"] == "contract_not_available"
    await deliver_paid(client, deal.intent)
    assert (await dealer_deal(client, m, deal.deal_id))["status"] == "confirmed"
    approved = await decide(client, m, deal.deal_id, decision="approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["decision"]["handover_waits_for"] == ["contract_signed"]
    twice = await decide(client, m, deal.deal_id, decision="decline", reasons=["late"])
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "decision_not_expected"
    assert (await sign(client, m, deal.loan_id, sha(pdf))).status_code == 200
    assert (await dealer_deal(client, m, deal.deal_id))["status"] == "handed_over"
    # The lender and the dealer were told at each step, in the transaction of the change.
    told = await session.execute(
        select(col(WebhookEvent.type)).where(
            col(WebhookEvent.data)["deal_id"].astext == deal.deal_id
        )
    )
    assert sorted(told.scalars()) == [
        "deal.decision_required",
        "deal.handed_over",
        "deal.signed",
        "deal.submitted",
    ]


# -- races ---------------------------------------------------------------------------------------


async def test_racing_decisions_and_the_three_handover_triggers_resolve_once(
    committed_client: httpx.AsyncClient,
    committed_app: tuple[FastAPI, StripeLikeGateway],
    committed_database: Database,
) -> None:
    client = committed_client
    admin = await committed_admin(client, committed_database)
    m = await manual_setup(client, admin)

    # Ten racing decisions of every kind on one deal: exactly one first decision wins. A
    # decline may still follow a "conditions" that won (a lender may decline after asking for
    # conditions, never after approving), and a decline answered 200 twice is one decline
    # replayed (declines are idempotent per deal): the audit log says what was decided.
    deal = await confirmed_deal(client, m)
    kinds = [
        {"decision": "approve"},
        {"decision": "conditions", "stipulations": [{"type": "bank_statements"}]},
        {"decision": "decline", "reasons": ["policy"]},
    ] * 3 + [{"decision": "approve"}]
    answers = await asyncio.gather(*(decide(client, m, deal.deal_id, **k) for k in kinds))
    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    async with committed_database.sessionmaker() as session:
        recorded = (
            await session.execute(
                select(col(AuditEntry.action))
                .where(
                    col(AuditEntry.subject_id) == deal.deal_id,
                    col(AuditEntry.action).startswith("deal.decision."),
                )
                .order_by(col(AuditEntry.id))
            )
        ).scalars()
        decided = [action.removeprefix("deal.decision.") for action in recorded]
    assert decided in (["approve"], ["conditions"], ["decline"], ["conditions", "decline"])
    answered = {k["decision"] for k, a in zip(kinds, answers, strict=True) if a.status_code == 200}
    assert answered == set(decided), [a.text for a in answers]

    # Another approval on the same buyer (the first deal may hold it): the last stipulation
    # satisfied, the contract signed and the down payment paid, all at once.
    seen = await dealer_deal(client, m, deal.deal_id)
    if seen["status"] != "cancelled":
        cancelled = await client.post(f"/v1/dealer/deals/{deal.deal_id}/cancel", headers=m.dealer)
        assert cancelled.status_code == 200, cancelled.text
    for _ in range(2):
        deal = await confirmed_deal(client, m)
        decided = await decide(
            client, m, deal.deal_id, decision="conditions", stipulations=[{"type": "id_card"}]
        )
        assert decided.status_code == 200, decided.text
        stipulation = decided.json()["decision"]["stipulations"][0]["id"]
        assert (
            await upload(client, m.dealer, "dealer", deal.deal_id, PDF, stipulation)
        ).status_code == 201
        pdf = await contract(client, m, deal.loan_id)
        code = await sms_code(client, m.phone, "sign")
        satisfy = client.post(
            f"/v1/lender/deals/{deal.deal_id}/stipulations/{stipulation}",
            json={"status": "satisfied"},
            headers=m.lender,
        )
        results = await asyncio.gather(
            satisfy,
            sign(client, m, deal.loan_id, sha(pdf), code),
            deliver_paid(client, deal.intent),
        )
        assert results[0].status_code == 200 and results[1].status_code == 200
        assert (await dealer_deal(client, m, deal.deal_id))["status"] == "handed_over"
        async with committed_database.sessionmaker() as session:
            handed = await session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    col(AuditEntry.action) == "deal.handed_over",
                    col(AuditEntry.subject_id) == deal.deal_id,
                )
            )
            assert handed.scalar_one() == 1
        # The next round needs the credit back: a handed-over deal keeps it, so a new buyer.
        m = await manual_setup(client, admin)
