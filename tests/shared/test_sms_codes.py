"""Phones are proven by one-time codes: sent once a minute, valid five minutes, used once, for
one phone and one purpose; one account per phone; buyers log in by phone and code."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import utcnow
from shared.identity.models import SmsCode
from shared.ratelimit import RateLimitCounter
from shared.settings import Settings
from tests.factories import fresh_phone, login, register_body, sms_code


async def test_a_second_code_within_a_minute_is_429_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    phone = fresh_phone()
    first = await client.post("/v1/auth/sms-codes", json={"phone": phone, "purpose": "register"})
    again = await client.post("/v1/auth/sms-codes", json={"phone": phone, "purpose": "register"})
    assert first.status_code == 202
    assert again.status_code == 429
    assert 0 < int(again.headers["Retry-After"]) <= 60
    other_purpose = await client.post(
        "/v1/auth/sms-codes", json={"phone": phone, "purpose": "login"}
    )
    assert other_purpose.status_code == 202


async def test_the_development_inbox_lists_codes_newest_first(client: httpx.AsyncClient) -> None:
    phone = fresh_phone()
    await sms_code(client, phone, "register")
    await sms_code(client, phone, "login")
    inbox = (await client.post("/v1/dev/sms", json={"phone": phone})).json()
    assert [m["purpose"] for m in inbox] == ["login", "register"]
    assert all(len(m["code"]) == 6 and m["code"].isdigit() for m in inbox)


async def test_a_code_is_refused_after_use(client: httpx.AsyncClient) -> None:
    phone = fresh_phone()
    code = await sms_code(client, phone)
    assert (
        await client.post("/v1/auth/register", json=register_body(phone, code))
    ).status_code == 201
    again = await client.post("/v1/auth/register", json=register_body(fresh_phone(), code))
    reused = await client.post("/v1/auth/register", json=register_body(phone, code))
    assert again.json()["error"]["code"] == "sms_code_invalid"
    assert reused.status_code == 422
    assert reused.json()["error"] == {
        "code": "sms_code_invalid",
        "message": reused.json()["error"]["message"],
        "field": "sms_code",
    }


async def test_a_code_is_refused_after_expiry(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    phone = fresh_phone()
    code = await sms_code(client, phone)
    await session.execute(update(SmsCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = await client.post("/v1/auth/register", json=register_body(phone, code))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "sms_code_invalid"


async def test_a_code_is_refused_from_another_phone(client: httpx.AsyncClient) -> None:
    code = await sms_code(client, fresh_phone())
    response = await client.post("/v1/auth/register", json=register_body(fresh_phone(), code))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "sms_code_invalid"


async def test_a_login_code_does_not_register(client: httpx.AsyncClient) -> None:
    phone = fresh_phone()
    code = await sms_code(client, phone, "login")
    response = await client.post("/v1/auth/register", json=register_body(phone, code))
    assert response.json()["error"]["code"] == "sms_code_invalid"


async def test_wrong_codes_are_throttled_per_phone(client: httpx.AsyncClient) -> None:
    phone = fresh_phone()
    code = await sms_code(client, phone)
    wrong = "000000" if code != "000000" else "111111"
    statuses = [
        (await client.post("/v1/auth/register", json=register_body(phone, wrong))).status_code
        for _ in range(6)
    ]
    assert statuses == [422] * 5 + [429]
    right = await client.post("/v1/auth/register", json=register_body(phone, code))
    assert right.status_code == 429  # even the right code waits out the window


async def test_one_phone_cannot_hold_two_accounts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    phone = fresh_phone()
    body = register_body(phone, await sms_code(client, phone))
    assert (await client.post("/v1/auth/register", json=body)).status_code == 201
    await session.execute(delete(RateLimitCounter))  # past the minute between codes
    # The same phone however it is written: +86, spaces, full-width digits.
    wide = "+86 " + phone.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    second = await client.post(
        "/v1/auth/register", json=register_body(wide, await sms_code(client, wide))
    )
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "phone_taken"


async def test_a_buyer_logs_in_with_phone_and_code(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    phone = fresh_phone()
    body = register_body(phone, await sms_code(client, phone))
    assert (await client.post("/v1/auth/register", json=body)).status_code == 201
    token = await client.post(
        "/v1/auth/phone-token",
        json={"phone": phone, "sms_code": await sms_code(client, phone, "login")},
    )
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "bearer"
    me = await client.get(
        "/v1/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["role"] == "buyer"
    # The password login stays.
    assert await login(client, str(body["email"]))
    codes = (await session.execute(select(SmsCode))).scalars().all()
    assert all(c.used_at is not None for c in codes)


async def test_a_wrong_login_code_and_an_unknown_phone_look_the_same(
    client: httpx.AsyncClient,
) -> None:
    phone = fresh_phone()
    body = register_body(phone, await sms_code(client, phone))
    assert (await client.post("/v1/auth/register", json=body)).status_code == 201
    await sms_code(client, phone, "login")
    wrong = await client.post("/v1/auth/phone-token", json={"phone": phone, "sms_code": "12345"})
    stranger = fresh_phone()
    unknown = await client.post(
        "/v1/auth/phone-token",
        json={"phone": stranger, "sms_code": await sms_code(client, stranger, "login")},
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_the_development_inbox_is_404_in_production(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = fresh_phone()
    await client.post("/v1/auth/sms-codes", json={"phone": phone, "purpose": "register"})
    production = Settings(
        env="production",
        database_url="postgresql://db/autofin",
        secret_key="kQ3v9Zr1XcLp0Wm7TbYe2Ns5Hd8Gf4Ja6Uo-_xRiVqt",
        stripe_api_key="sk_live_51HaBcDeFgHiJkLmNoPqRsTuVwXyZ0123",
        stripe_webhook_secret="whsec_AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    )
    monkeypatch.setattr("shared.identity.router.get_settings", lambda: production)
    response = await client.post("/v1/dev/sms", json={"phone": phone})
    assert response.status_code == 404
    assert phone not in response.text
