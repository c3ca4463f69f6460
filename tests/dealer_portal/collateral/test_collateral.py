"""The dealer records the car's registration as the lender's collateral after funding
(``/v1/dealer/deals/{id}/collateral``), owes it within the product's ``collateral_days``, is
flagged overdue by ``autofin jobs run``, and records the release after the platform issued the
release instructions at payoff."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from autofin.jobs import run_all
from marketplace.collateral.models import LoanCollateral
from shared.audit import AuditEntry
from shared.db import Database
from shared.identity.sms import SandboxSms
from shared.webhooks.models import WebhookEvent
from tests.dealer_portal.conftest import (
    Approved,
    StripeLikeGateway,
    approved_buyer,
    committed_admin,
    confirm,
    intent_object,
    new_dealer,
    quoted_deal,
    signed_event,
)
from tests.factories import Headers, fresh_phone
from tests.servicing.conftest import pay, save_card
from tests.stripe_fixtures import LocalStripe

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DAYTIME = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


async def handed_over(
    client: httpx.AsyncClient, admin: Headers, **product: Any
) -> tuple[Approved, str, str]:
    """A deal on an auto-funded product, its down payment paid: handed over, loan active."""
    phone = fresh_phone()
    approved = await approved_buyer(client, admin, phone=phone, **product)
    deal_id = await quoted_deal(client, approved, verifier=phone[-4:])
    confirmed = await confirm(client, approved.dealer, deal_id)
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    paid = intent_object(
        body["deal"] | {"payment_intent_id": body["down_payment"]["payment_intent_id"]}
    )
    payload, headers = signed_event("payment_intent.succeeded", paid)
    assert (await client.post("/v1/stripe/webhook", content=payload, headers=headers)).is_success
    return approved, deal_id, str(body["loan_id"])


async def upload(client: httpx.AsyncClient, dealer: Headers, deal_id: str) -> str:
    response = await client.post(
        f"/v1/dealer/deals/{deal_id}/documents",
        files={"file": ("certificate.pdf", PDF, "application/octet-stream")},
        headers=dealer,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def registration(document_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "registration_number": "沪A-DY-2026-000123",
        "authority": "上海市公安局交通警察总队车辆管理所",
        "registered_on": date.today().isoformat(),
        "document_id": document_id,
    } | overrides


async def events(session: AsyncSession, loan_id: str, type: str) -> list[WebhookEvent]:
    rows = await session.scalars(
        select(WebhookEvent).where(
            col(WebhookEvent.type) == type, col(WebhookEvent.data)["loan_id"].astext == loan_id
        )
    )
    return list(rows)


async def test_the_registration_is_refused_before_funding_and_recorded_once_after(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    # (First: a buyer approved later sees every product so far, and deals on its first offer.)
    approved, deal_id, loan_id = await handed_over(client, admin, collateral_days=45)
    # Confirmed but not paid: the loan waits for funding, so nothing is owed yet.
    phone = fresh_phone()
    waiting = await approved_buyer(client, admin, phone=phone)
    waiting_deal = await quoted_deal(client, waiting, verifier=phone[-4:])
    early = await client.post(
        f"/v1/dealer/deals/{waiting_deal}/collateral",
        json=registration(str(uuid.uuid4())),
        headers=waiting.dealer,
    )
    assert early.status_code == 409 and early.json()["error"]["code"] == "collateral_not_open"
    assert (await confirm(client, waiting.dealer, waiting_deal)).status_code == 200
    pending = await client.get(
        f"/v1/dealer/deals/{waiting_deal}/collateral", headers=waiting.dealer
    )
    assert pending.status_code == 409 and pending.json()["error"]["code"] == "collateral_not_open"

    path = f"/v1/dealer/deals/{deal_id}/collateral"
    owed = (await client.get(path, headers=approved.dealer)).json()
    assert owed["status"] == "awaiting" and owed["overdue"] is False
    assert owed["loan_id"] == loan_id and owed["deal_id"] == deal_id
    assert date.fromisoformat(owed["due_on"]) == date.fromisoformat(owed["funded_on"]) + timedelta(
        days=45
    )

    document_id = await upload(client, approved.dealer, deal_id)
    other_deal_document = await upload(client, waiting.dealer, waiting_deal)
    foreign = await client.post(
        path, json=registration(other_deal_document), headers=approved.dealer
    )
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "document_not_found"
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    future = await client.post(
        path, json=registration(document_id, registered_on=tomorrow), headers=approved.dealer
    )
    assert future.status_code == 422
    assert future.json()["error"]["code"] == "collateral_date_invalid"
    assert future.json()["error"]["field"] == "registered_on"
    stranger = await client.post(
        path, json=registration(document_id), headers=waiting.dealer
    )  # another dealer: the deal does not exist for it
    assert stranger.status_code == 404 and stranger.json()["error"]["code"] == "deal_not_found"

    recorded = await client.post(path, json=registration(document_id), headers=approved.dealer)
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["status"] == "registered" and recorded.json()["registered_late"] is False
    assert recorded.json()["document_id"] == document_id
    retried = await client.post(path, json=registration(document_id), headers=approved.dealer)
    assert retried.status_code == 200 and retried.json() == recorded.json()  # safe to retry
    different = await client.post(
        path, json=registration(document_id, registration_number="沪A-999"), headers=approved.dealer
    )
    assert different.status_code == 409
    assert different.json()["error"]["code"] == "collateral_already_registered"

    assert len(await events(session, loan_id, "loan.collateral_registered")) == 1
    audited = await session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            col(AuditEntry.action) == "collateral.registered", col(AuditEntry.subject_id) == loan_id
        )
    )
    assert audited == 1
    lender_view = [
        item
        for item in (await client.get("/v1/dealer/collateral", headers=approved.dealer)).json()[
            "items"
        ]
        if item["deal_id"] == deal_id
    ]
    assert lender_view and lender_view[0]["status"] == "registered"
    release = await client.post(
        f"{path}/release", json={"released_on": date.today().isoformat()}, headers=approved.dealer
    )
    assert release.status_code == 409
    assert release.json()["error"]["code"] == "collateral_release_not_issued"


async def test_payoff_issues_the_release_instructions_and_the_dealer_records_the_release(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, localstripe: LocalStripe
) -> None:
    approved, deal_id, loan_id = await handed_over(client, admin)
    path = f"/v1/dealer/deals/{deal_id}/collateral"
    document_id = await upload(client, approved.dealer, deal_id)
    assert (
        await client.post(path, json=registration(document_id), headers=approved.dealer)
    ).status_code == 200

    await save_card(client, approved.buyer, localstripe)
    payoff = await pay(client, approved.buyer, uuid.UUID(loan_id), {"payoff": True})
    assert payoff.status_code == 201, payoff.text
    issued = (await client.get(path, headers=approved.dealer)).json()
    assert issued["status"] == "release_issued" and issued["release_issued_at"]
    instructions = issued["release_instructions"]
    vin = (await client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)).json()[
        "vehicle"
    ]["vin"]
    for text in (instructions["zh"], instructions["en"]):
        assert vin in text and "沪A-DY-2026-000123" in text
    assert "解除抵押" in instructions["zh"] and "release" in instructions["en"]
    mine = await client.get(f"/v1/buyer/loans/{loan_id}/collateral", headers=approved.buyer)
    assert mine.status_code == 200 and mine.json()["release_instructions"] == instructions
    [event] = await events(session, loan_id, "loan.collateral_release_issued")
    assert "vin" not in event.data and event.data["status"] == "release_issued"

    released = await client.post(
        f"{path}/release",
        json={"released_on": date.today().isoformat(), "document_id": document_id},
        headers=approved.dealer,
    )
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert released.json()["release_document_id"] == document_id
    again = await client.post(
        f"{path}/release",
        json={"released_on": date.today().isoformat(), "document_id": document_id},
        headers=approved.dealer,
    )
    assert again.status_code == 200 and again.json() == released.json()
    assert len(await events(session, loan_id, "loan.collateral_released")) == 1


async def test_jobs_run_flags_an_overdue_registration_once_and_a_late_one_is_recorded_as_late(
    committed_client: httpx.AsyncClient,
    committed_database: Database,
    committed_app: tuple[Any, StripeLikeGateway],
) -> None:
    client = committed_client
    admin = await committed_admin(client, committed_database)
    on_time, on_time_deal, on_time_loan = await handed_over(client, admin, collateral_days=30)
    late, late_deal, late_loan = await handed_over(client, admin, collateral_days=30)
    # The late one was funded 31 days ago: its registration was due yesterday.
    async with committed_database.sessionmaker() as session, session.begin():
        await session.execute(
            update(LoanCollateral)
            .where(col(LoanCollateral.loan_id) == uuid.UUID(late_loan))
            .values(
                funded_on=date.today() - timedelta(days=31),
                due_on=date.today() - timedelta(days=1),
            )
        )
    document_id = await upload(client, on_time.dealer, on_time_deal)
    registered = await client.post(
        f"/v1/dealer/deals/{on_time_deal}/collateral",
        json=registration(document_id),
        headers=on_time.dealer,
    )
    assert registered.status_code == 200, registered.text
    gateway = committed_app[1]
    sms = SandboxSms()

    async def jobs(as_of: date) -> dict[str, int]:
        return await run_all(
            committed_database, gateway, as_of=as_of, progress=lambda _: None, sms=sms, now=DAYTIME
        )

    assert (await jobs(date.today() - timedelta(days=1)))["collateral_overdue"] == 0  # due day
    runs = await asyncio.gather(jobs(date.today()), jobs(date.today()))  # two `jobs run` at once
    assert sorted(run["collateral_overdue"] for run in runs) == [0, 1]
    assert (await jobs(date.today()))["collateral_overdue"] == 0

    path = f"/v1/dealer/deals/{late_deal}/collateral"
    flagged = (await client.get(path, headers=late.dealer)).json()
    assert flagged["status"] == "awaiting" and flagged["overdue"] is True and flagged["overdue_at"]
    in_time = await client.get(
        f"/v1/dealer/deals/{on_time_deal}/collateral", headers=on_time.dealer
    )
    assert in_time.json()["overdue_at"] is None and in_time.json()["status"] == "registered"
    overdue_list = (
        await client.get("/v1/dealer/collateral?overdue=true", headers=late.dealer)
    ).json()
    assert [item["deal_id"] for item in overdue_list["items"]] == [late_deal]
    async with committed_database.sessionmaker() as session:
        [told] = await events(session, late_loan, "loan.collateral_overdue")
        assert {str(org) for org in told.organization_ids} == {
            late.dealer_id,
            told.data["lender_id"],
        }
        assert await events(session, on_time_loan, "loan.collateral_overdue") == []
        audited = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(col(AuditEntry.action) == "collateral.overdue")
        )
        assert audited == 1

    # Registered at last, today: accepted, shown as late, no longer overdue, the flag kept.
    late_document = await upload(client, late.dealer, late_deal)
    recorded = await client.post(path, json=registration(late_document), headers=late.dealer)
    assert recorded.status_code == 200, recorded.text
    body = recorded.json()
    assert body["status"] == "registered" and body["overdue"] is False
    assert body["registered_late"] is True and body["overdue_at"] == flagged["overdue_at"]
    assert (await jobs(date.today()))["collateral_overdue"] == 0


async def test_another_dealers_deal_and_collateral_stay_hidden(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    approved, deal_id, _ = await handed_over(client, admin)
    _, stranger = await new_dealer(client, admin)
    seen = await client.get(f"/v1/dealer/deals/{deal_id}/collateral", headers=stranger)
    assert seen.status_code == 404
    listed = (await client.get("/v1/dealer/collateral", headers=stranger)).json()
    assert listed["total"] == 0
