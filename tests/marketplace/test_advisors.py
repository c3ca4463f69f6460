"""Every approved buyer gets a one-to-one advisor, who follows them and is warned of diversion."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.preapprovals.models import PreapprovalLookup
from shared.db import utcnow
from tests.factories import (
    PASSWORD,
    admin_headers,
    apply,
    buyer_headers,
    create_organization,
    login,
    unique_email,
)


async def create_advisor(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    email = unique_email("advisor")
    response = await client.post(
        "/v1/admin/advisors",
        json={"email": email, "password": PASSWORD, "full_name": "顾问"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return await login(client, email)


async def test_a_buyer_approved_before_any_advisor_exists_is_assigned_when_one_does(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    buyer = await buyer_headers(client)
    assert (await apply(client, buyer)).json()["decision"] == "approved"
    waiting = await client.get("/v1/buyer/messages", headers=buyer)
    assert waiting.status_code == 409 and waiting.json()["error"]["code"] == "no_advisor_yet"

    advisor = await create_advisor(client, admin)
    buyers = (await client.get("/v1/advisor/buyers", headers=advisor)).json()
    assert buyers["total"] == 1 and buyers["items"][0]["status"] == "active"


async def test_buyers_go_to_the_least_loaded_advisor(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    first, second = await create_advisor(client, admin), await create_advisor(client, admin)
    for _ in range(4):
        response = await apply(client, await buyer_headers(client))
        assert response.status_code == 201, response.text
    loads = [
        (await client.get("/v1/advisor/buyers", headers=a)).json()["total"] for a in (first, second)
    ]
    assert loads == [2, 2]


async def test_buyer_and_advisor_exchange_messages_and_nobody_else_reads_them(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    advisor = await create_advisor(client, admin)
    buyer = await buyer_headers(client)
    await apply(client, buyer)
    buyer_id = (await client.get("/v1/auth/me", headers=buyer)).json()["user_id"]

    sent = await client.post("/v1/buyer/messages", json={"body": "可以贷多少？"}, headers=buyer)
    assert sent.status_code == 201
    reply = await client.post(
        f"/v1/advisor/buyers/{buyer_id}/messages",
        json={"body": "您的额度见预审批。"},
        headers=advisor,
    )
    assert reply.status_code == 201
    thread = (await client.get("/v1/buyer/messages", headers=buyer)).json()["items"]
    assert [(m["sender"], m["body"]) for m in thread] == [
        ("buyer", "可以贷多少？"),
        ("advisor", "您的额度见预审批。"),
    ]

    other = await create_advisor(client, admin)
    for response in (
        await client.get(f"/v1/advisor/buyers/{buyer_id}/messages", headers=other),
        await client.post(
            f"/v1/advisor/buyers/{buyer_id}/messages", json={"body": "hi"}, headers=other
        ),
        await client.get(f"/v1/advisor/buyers/{uuid.uuid4()}/messages", headers=advisor),
    ):
        assert response.status_code == 404
    assert (await client.get("/v1/advisor/buyers", headers=buyer)).status_code == 403


async def test_the_advisor_is_alerted_when_a_lookup_is_not_confirmed_within_a_day(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    advisor = await create_advisor(client, admin)
    buyer = await buyer_headers(client)
    preapproval = (await apply(client, buyer)).json()["preapproval"]
    dealer = await create_organization(client, admin, "dealer", name="上海宝马4S店")
    lookup = PreapprovalLookup(preapproval_id=preapproval["id"], dealer_id=dealer["id"])
    session.add(lookup)
    await session.commit()
    assert (await client.get("/v1/advisor/alerts", headers=advisor)).json() == []  # too recent

    await session.execute(
        update(PreapprovalLookup)
        .where(PreapprovalLookup.id == lookup.id)
        .values(looked_up_at=utcnow() - timedelta(days=1, minutes=1))
    )
    await session.commit()
    alerts = (await client.get("/v1/advisor/alerts", headers=advisor)).json()
    assert [(a["preapproval_id"], a["dealer_name"]) for a in alerts] == [
        (preapproval["id"], "上海宝马4S店")
    ]
