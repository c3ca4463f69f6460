"""Small typed factories that arrange data through the real services and API."""

from __future__ import annotations

import itertools
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from shared.identity.service import create_or_reset_admin
from shared.identity.uscc import uscc_check_character

Headers = dict[str, str]
_sequence = itertools.count(1)

# Argon2 is deliberately slow, so factories reuse one password.
PASSWORD = "correct horse battery"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def valid_uscc() -> str:
    """A fresh, checksum-valid unified social credit code."""
    body = f"91110000{next(_sequence) + uuid.uuid4().int % 10**8:09d}"[:17]
    return body + uscc_check_character(body)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Headers:
    response = await client.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def admin_headers(client: httpx.AsyncClient, session: AsyncSession) -> Headers:
    email = unique_email("admin")
    await create_or_reset_admin(session, email=email, password=PASSWORD)
    await session.commit()
    return await login(client, email)


async def create_organization(
    client: httpx.AsyncClient, admin: Headers, kind: str = "lender", **fields: object
) -> dict[str, object]:
    body: dict[str, object] = {"name": f"Test {kind} {next(_sequence)}", "uscc": valid_uscc()}
    if kind == "dealer":
        body |= {"city": "上海", "brands": ["BYD", "Toyota"]}
    body |= fields
    response = await client.post(f"/v1/admin/{kind}s", json=body, headers=admin)
    assert response.status_code == 201, response.text
    organization: dict[str, object] = response.json()
    return organization


async def staff_headers(
    client: httpx.AsyncClient, admin: Headers, organization_id: object, role: str = "staff"
) -> Headers:
    email = unique_email("staff")
    response = await client.post(
        f"/v1/admin/organizations/{organization_id}/members",
        json={"email": email, "password": PASSWORD, "full_name": "李四", "role": role},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return await login(client, email)


async def api_key_headers(
    client: httpx.AsyncClient, admin: Headers, organization_id: object
) -> Headers:
    response = await client.post(
        f"/v1/admin/organizations/{organization_id}/api-keys", headers=admin
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


async def buyer_headers(client: httpx.AsyncClient, *, phone: str = "13812345678") -> Headers:
    email = unique_email("buyer")
    response = await client.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": "张三", "phone": phone},
    )
    assert response.status_code == 201, response.text
    return await login(client, email)
