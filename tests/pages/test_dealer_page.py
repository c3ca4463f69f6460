"""Dealer staff on the portal page (the whole handover is in test_journeys.py)."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from tests.factories import (
    PASSWORD,
    create_organization,
    unique_email,
)


async def test_a_wrong_verifier_shows_the_same_refusal_as_an_unknown_code(
    page: Page, api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    dealer = await create_organization(api, admin, "dealer")
    email = unique_email("dealer")
    member = {"email": email, "password": PASSWORD, "full_name": "销售", "role": "staff"}
    await api.post(f"/v1/admin/organizations/{dealer['id']}/members", json=member, headers=admin)
    await page.goto("/dealer")
    login = page.locator("#login-form")
    await login.get_by_label("邮箱").fill(email)
    await login.get_by_label("密码").fill(PASSWORD)
    await login.get_by_role("button", name="登录").click()
    lookup = page.locator("#lookup-form")
    await lookup.get_by_label("审批码").fill("ABCD2345")
    await lookup.get_by_label("手机后四位").fill("0000")
    await lookup.get_by_role("button", name="查询").click()
    await expect(lookup.locator(".error")).to_have_text("没有与该审批码和验证码匹配的预审批。")
