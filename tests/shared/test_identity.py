"""Logins, organisations, staff and API keys, as the admin and the callers see them."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import pii
from shared.audit import AuditEntry
from shared.identity.models import ApiKey, User
from tests.factories import (
    PASSWORD,
    admin_headers,
    api_key_headers,
    buyer_headers,
    create_organization,
    fresh_phone,
    login,
    register_body,
    sms_code,
    staff_headers,
    unique_email,
)


async def test_a_buyer_registers_and_logs_in(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    email = unique_email("Buyer").upper()
    code = await sms_code(client, "13812345678")
    response = await client.post(
        "/v1/auth/register",
        json=register_body("+86 138-1234-5678", code, email=email),
    )
    assert response.status_code == 201
    assert response.json()["kind"] == "buyer"
    assert "password" not in response.text
    headers = await login(client, email.lower())
    me = (await client.get("/v1/auth/me", headers=headers)).json()
    assert me["role"] == "buyer"
    stored = (await session.execute(select(User).where(User.email == email.lower()))).scalar_one()
    assert stored.phone_encrypted and "13812345678" not in stored.phone_encrypted
    assert pii.decrypt(stored.phone_encrypted) == "13812345678"
    assert stored.phone_hash == pii.lookup_hash("13812345678")
    assert stored.password_hash and stored.password_hash.startswith("$argon2id$")


async def test_registering_an_email_twice_is_a_conflict(client: httpx.AsyncClient) -> None:
    body = register_body("13812345678", await sms_code(client, "13812345678"))
    assert (await client.post("/v1/auth/register", json=body)).status_code == 201
    other_phone = fresh_phone()
    again = await client.post(
        "/v1/auth/register",
        json=register_body(other_phone, await sms_code(client, other_phone), email=body["email"]),
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "email_taken"


async def test_wrong_password_and_unknown_email_look_the_same(client: httpx.AsyncClient) -> None:
    body = register_body("13812345678", await sms_code(client, "13812345678"))
    email = str(body["email"])
    assert (await client.post("/v1/auth/register", json=body)).status_code == 201
    wrong_password = await client.post(
        "/v1/auth/token", data={"username": email, "password": "nope-nope"}
    )
    unknown_email = await client.post(
        "/v1/auth/token", data={"username": unique_email(), "password": PASSWORD}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()


@pytest.mark.parametrize("token", ["", "garbage", "afk_not-a-real-key", "eyJhbGciOiJub25lIn0.e30."])
async def test_missing_or_forged_credentials_are_401(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"not_authenticated", "invalid_credentials"}


async def test_admin_onboards_a_lender_with_staff_and_an_api_key(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    lender = await create_organization(client, admin, "lender", uscc="91350100m000100y43 ".upper())
    assert lender["kind"] == "lender" and lender["status"] == "active"

    staff = await staff_headers(client, admin, lender["id"], role="manager")
    assert (await client.get("/v1/auth/me", headers=staff)).json() == {
        "role": "lender",
        "user_id": (await client.get("/v1/auth/me", headers=staff)).json()["user_id"],
        "organization_id": lender["id"],
    }

    created = await client.post(
        f"/v1/admin/organizations/{lender['id']}/api-keys", json={"name": "core"}, headers=admin
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("afk_") and created.json()["prefix"] == key[:12]
    stored = (await session.execute(select(ApiKey).where(ApiKey.prefix == key[:12]))).scalar_one()
    assert key not in stored.key_hash  # only the hash is stored

    as_key = await client.get("/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert as_key.json()["role"] == "lender" and as_key.json()["organization_id"] == lender["id"]
    listed = (
        await client.get(f"/v1/admin/organizations/{lender['id']}/api-keys", headers=admin)
    ).json()
    assert "key" not in listed[0]

    actions = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert {"lender.created", "organization.member_added", "api_key.issued"} <= set(actions)


async def test_a_revoked_api_key_stops_working(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    dealer = await create_organization(client, admin, "dealer")
    headers = await api_key_headers(client, admin, dealer["id"])
    keys = (
        await client.get(f"/v1/admin/organizations/{dealer['id']}/api-keys", headers=admin)
    ).json()
    revoked = await client.delete(
        f"/v1/admin/organizations/{dealer['id']}/api-keys/{keys[0]['id']}", headers=admin
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert (await client.get("/v1/auth/me", headers=headers)).status_code == 401
    again = await client.delete(
        f"/v1/admin/organizations/{dealer['id']}/api-keys/{keys[0]['id']}", headers=admin
    )
    assert again.status_code == 404


async def test_a_suspended_organisation_cannot_act(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    lender = await create_organization(client, admin, "lender")
    staff = await staff_headers(client, admin, lender["id"])
    key = await api_key_headers(client, admin, lender["id"])
    assert (
        await client.post(f"/v1/admin/organizations/{lender['id']}/suspend", headers=admin)
    ).status_code == 200
    for headers in (staff, key):
        response = await client.get("/v1/auth/me", headers=headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "organization_suspended"
    await client.post(f"/v1/admin/organizations/{lender['id']}/reactivate", headers=admin)
    assert (await client.get("/v1/auth/me", headers=staff)).status_code == 200


@pytest.mark.parametrize(
    "uscc", ["91350100M000100Y44", "91350100M00010", "91350100M000100YO3", "91350100M000100Y4#"]
)
async def test_an_invalid_unified_social_credit_code_is_422_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession, uscc: str
) -> None:
    admin = await admin_headers(client, session)
    response = await client.post(
        "/v1/admin/lenders", json={"name": "Bad", "uscc": uscc}, headers=admin
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "uscc"


async def test_a_unified_social_credit_code_registers_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await create_organization(client, admin, "lender", uscc="914403001922038216")
    response = await client.post(
        "/v1/admin/dealers",
        json={"name": "Dup", "uscc": "914403001922038216", "city": "深圳", "brands": []},
        headers=admin,
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "uscc_taken"


async def test_only_admins_reach_the_admin_api(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    lender = await create_organization(client, admin, "lender")
    callers = [
        await buyer_headers(client),
        await staff_headers(client, admin, lender["id"]),
        await api_key_headers(client, admin, lender["id"]),
    ]
    for headers in callers:
        response = await client.post(
            "/v1/admin/lenders", json={"name": "x", "uscc": "914403001922038216"}, headers=headers
        )
        assert response.status_code == 403
    assert (await client.get("/v1/admin/organizations")).status_code == 401


async def test_admin_creates_an_advisor_login(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    email = unique_email("advisor")
    response = await client.post(
        "/v1/admin/advisors",
        json={"email": email, "password": PASSWORD, "full_name": "顾问王"},
        headers=admin,
    )
    assert response.status_code == 201
    me = (await client.get("/v1/auth/me", headers=await login(client, email))).json()
    assert me["role"] == "advisor"


async def test_organisations_are_listed_a_page_at_a_time(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    for _ in range(3):
        await create_organization(client, admin, "dealer")
    page = (await client.get("/v1/admin/organizations?kind=dealer&limit=2", headers=admin)).json()
    assert len(page["items"]) == 2 and page["total"] >= 3
    assert (await client.get("/v1/admin/organizations?limit=0", headers=admin)).status_code == 422
