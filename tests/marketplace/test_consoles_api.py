"""What the consoles read and do beyond the original API: the lender's policy and pipeline, the
advisor's unread counts and handled alerts, the admin's members, advisors and audit log."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.preapprovals.models import PreapprovalLookup
from pricing import SUB_GRADES
from shared.audit import AuditEntry
from shared.db import utcnow
from shared.identity.service import create_or_reset_admin
from tests.factories import (
    PASSWORD,
    admin_headers,
    apply,
    buyer_headers,
    create_organization,
    lender_with_product,
    login,
    staff_headers,
    unique_email,
    unique_vin,
)

VIN = "LBV5S1106MS000001"  # BMW Brilliance, check digit verified


async def new_advisor(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> tuple[str, dict[str, str]]:
    email = unique_email("advisor")
    body = {"email": email, "password": PASSWORD, "full_name": "顾问"}
    response = await client.post("/v1/admin/advisors", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return email, await login(client, email)


async def test_a_lender_reads_the_fair_band_of_every_grade_and_the_legal_cap(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    _, lender, _ = await lender_with_product(client, admin)
    policy = (await client.get("/v1/lender/policy", headers=lender)).json()
    assert [rung["grade"] for rung in policy["ladder"]] == list(SUB_GRADES)
    assert policy == (await client.get("/v1/admin/risk/policy", headers=admin)).json()
    for rung in policy["ladder"]:
        assert rung["benchmark_rate_new"] <= rung["max_fair_rate_new"]
        assert float(rung["max_fair_rate_used"]) <= float(policy["legal_cap_apr"])
    buyer = await buyer_headers(client)
    assert (await client.get("/v1/lender/policy", headers=buyer)).status_code == 403


async def test_the_pipeline_shows_a_lender_the_deals_on_its_products_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    lender, staff, product = await lender_with_product(client, admin, name="安心车贷")
    other_lender, other_staff, _ = await lender_with_product(client, admin)
    buyer = await buyer_headers(client, phone="13800138001")
    preapproval = (await apply(client, buyer)).json()["preapproval"]
    offer = next(o for o in preapproval["offers"] if o["product_id"] == product["id"])
    dealer = await create_organization(client, admin, "dealer", name="上海浦东宝马4S店")
    dealer_staff = await staff_headers(client, admin, dealer["id"])
    vehicle = {
        "vin": unique_vin(VIN),
        "make": "宝马",
        "model": "325Li",
        "vehicle_type": "new",
        "price": 30_000_000,
    }
    body = {
        "code": preapproval["code"],
        "verifier": "8001",
        "vehicle": vehicle,
        "down_payment": 12_000_000,
        "term_months": 36,
        "offer_id": offer["offer_id"],
    }
    deal = await client.post("/v1/dealer/deals", json=body, headers=dealer_staff)
    assert deal.status_code == 201, deal.text

    page = (await client.get("/v1/lender/pipeline", headers=staff)).json()
    assert page["total"] == 1 and set(page) == {"items", "total", "limit", "offset"}
    (item,) = page["items"]
    assert item["id"] == deal.json()["id"] and item["status"] == "quoted"
    assert item["dealer_name"] == "上海浦东宝马4S店" and item["lender_id"] == lender["id"]
    assert (item["quote"]["product_id"], item["quote"]["product_version"]) == (product["id"], 1)
    assert item["buyer_name_masked"] == "张*"
    confirmed = await client.get("/v1/lender/pipeline?status=confirmed", headers=staff)
    assert confirmed.json()["total"] == 0
    assert (await client.get("/v1/lender/pipeline", headers=other_staff)).json()["total"] == 0
    assert (await client.get("/v1/lender/pipeline", headers=dealer_staff)).status_code == 403
    assert other_lender["id"] != lender["id"]


async def test_unread_counts_follow_the_buyers_messages_and_the_advisors_reading(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin)
    _, advisor = await new_advisor(client, admin)
    buyer = await buyer_headers(client)
    await apply(client, buyer)

    async def mine() -> dict[str, object]:
        items = (await client.get("/v1/advisor/buyers", headers=advisor)).json()["items"]
        assert len(items) == 1
        return dict(items[0])

    assert (await mine())["unread"] == 0 and (await mine())["last_message_at"] is None
    for text in ("可以贷多少？", "首付最少多少？"):
        sent = await client.post("/v1/buyer/messages", json={"body": text}, headers=buyer)
        assert sent.status_code == 201
    assert (await mine())["unread"] == 2
    buyer_id = (await mine())["buyer_id"]
    read = await client.post(f"/v1/advisor/buyers/{buyer_id}/messages/read", headers=advisor)
    assert read.status_code == 204
    reply = {"body": "最少两成。"}
    await client.post(f"/v1/advisor/buyers/{buyer_id}/messages", json=reply, headers=advisor)
    assert (await mine())["unread"] == 0  # the advisor's own reply is never unread
    await client.post("/v1/buyer/messages", json={"body": "好的"}, headers=buyer)
    assert (await mine())["unread"] == 1

    _, other = await new_advisor(client, admin)
    refused = await client.post(f"/v1/advisor/buyers/{buyer_id}/messages/read", headers=other)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "buyer_not_found"


async def test_a_handled_alert_leaves_the_list_once_and_only_its_advisor_may_handle_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin)
    _, advisor = await new_advisor(client, admin)
    buyer = await buyer_headers(client)
    preapproval = (await apply(client, buyer)).json()["preapproval"]
    dealer = await create_organization(client, admin, "dealer", name="上海宝马4S店")
    lookups = [
        PreapprovalLookup(
            preapproval_id=uuid.UUID(preapproval["id"]),
            dealer_id=uuid.UUID(str(dealer["id"])),
            looked_up_at=utcnow() - timedelta(days=2, minutes=minutes),
        )
        for minutes in (1, 2)
    ]
    session.add_all(lookups)
    await session.commit()
    alerts = (await client.get("/v1/advisor/alerts", headers=advisor)).json()
    assert {a["lookup_id"] for a in alerts} == {str(lookup.id) for lookup in lookups}

    _, other = await new_advisor(client, admin)
    path = f"/v1/advisor/alerts/{lookups[0].id}/handled"
    refused = await client.post(path, headers=other)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "alert_not_found"
    unknown = await client.post(f"/v1/advisor/alerts/{uuid.uuid4()}/handled", headers=advisor)
    assert unknown.status_code == 404
    for _ in range(2):
        assert (await client.post(path, headers=advisor)).status_code == 204
    alerts = (await client.get("/v1/advisor/alerts", headers=advisor)).json()
    assert [a["lookup_id"] for a in alerts] == [str(lookups[1].id)]
    audited = await session.execute(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "advisor.alert_handled")
    )
    assert audited.scalar_one() == 1


async def test_the_admin_lists_members_and_advisors_and_searches_the_audit_log(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    me_email = unique_email("admin")
    await create_or_reset_admin(session, email=me_email, password=PASSWORD)
    await session.commit()
    admin = await login(client, me_email)
    lender = await create_organization(client, admin, "lender")
    member = {
        "email": unique_email("m"),
        "password": PASSWORD,
        "full_name": "李四",
        "role": "manager",
    }
    path = f"/v1/admin/organizations/{lender['id']}/members"
    assert (await client.post(path, json=member, headers=admin)).status_code == 201
    members = (await client.get(path, headers=admin)).json()
    assert [(m["email"], m["role"]) for m in members["items"]] == [(member["email"], "manager")]
    missing = await client.get(f"/v1/admin/organizations/{uuid.uuid4()}/members", headers=admin)
    assert missing.status_code == 404

    advisor_email, _ = await new_advisor(client, admin)
    advisors = (await client.get("/v1/admin/advisors", headers=admin)).json()
    assert [(a["email"], a["buyers"]) for a in advisors["items"]] == [(advisor_email, 0)]

    await client.post(f"/v1/admin/organizations/{lender['id']}/api-keys", headers=admin)
    by_subject = (
        await client.get(f"/v1/admin/audit-log?subject_id={lender['id']}", headers=admin)
    ).json()
    actions = [entry["action"] for entry in by_subject["items"]]
    assert (
        "lender.created" in actions
        and "api_key.issued" in actions
        and by_subject["total"] == len(actions)
    )
    me = (await client.get("/v1/auth/me", headers=admin)).json()
    by_actor = (
        await client.get(f"/v1/admin/audit-log?actor=user:{me['user_id']}&limit=1", headers=admin)
    ).json()
    assert by_actor["limit"] == 1 and len(by_actor["items"]) == 1 and by_actor["total"] >= 3
    assert by_actor["items"][0]["action"] == "api_key.issued"  # newest first
    by_email = await client.get(f"/v1/admin/audit-log?actor={me_email}&limit=1", headers=admin)
    assert by_email.json() == by_actor
    nobody = await client.get("/v1/admin/audit-log?actor=nobody@example.com", headers=admin)
    assert nobody.json()["total"] == 0
    staff = await staff_headers(client, admin, lender["id"])
    assert (await client.get("/v1/admin/audit-log", headers=staff)).status_code == 403
