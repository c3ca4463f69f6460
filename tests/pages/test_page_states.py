"""States the pages must make plain: another role's account, an expired session, and phones from
360 to 414 px wide on every signed-out page (layout and axe-core)."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.factories import (
    PASSWORD,
    create_organization,
    fresh_phone,
    register_body,
    sms_code,
    unique_email,
)
from tests.pages.a11y import assert_page_checks


async def dealer_login(api: httpx.AsyncClient, admin: dict[str, str]) -> str:
    dealer = await create_organization(api, admin, "dealer")
    email = unique_email("dealer")
    member = {"email": email, "password": PASSWORD, "full_name": "销售", "role": "staff"}
    created = await api.post(
        f"/v1/admin/organizations/{dealer['id']}/members", json=member, headers=admin
    )
    assert created.status_code == 201, created.text
    return email


async def test_another_roles_account_gets_a_not_for_this_account_page(
    page: Page, api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    dealer_email = await dealer_login(api, admin)
    await page.goto("/buyer")
    await page.get_by_text("用邮箱和密码登录").click()
    await page.locator("#login-form [name=email]").fill(dealer_email)
    await page.locator("#login-form [name=password]").fill(PASSWORD)
    await page.locator("#login-form button[type=submit]").click()
    heading = page.get_by_role("heading", name="此页面不适用于当前账户")
    await expect(heading).to_be_visible()
    await expect(heading).to_be_focused()
    await expect(page.locator("#not-for-account")).to_contain_text("经销商账户")
    await expect(page.get_by_role("link", name="前往我的页面")).to_have_attribute("href", "/dealer")
    for section in ("#account", "#apply", "#decision"):
        await expect(page.locator(section)).to_be_hidden()
    await assert_page_checks(page)

    # And a buyer on the dealer portal, after logging the dealer out from the notice.
    await page.get_by_role("button", name="退出并换一个账户登录").click()
    phone = fresh_phone()
    body = register_body(phone, await sms_code(api, phone))
    assert (await api.post("/v1/auth/register", json=body)).status_code == 201
    await page.goto("/dealer")
    await page.locator("#login-form [name=email]").fill(str(body["email"]))
    await page.locator("#login-form [name=password]").fill(PASSWORD)
    await page.locator("#login-form button[type=submit]").click()
    await expect(page.get_by_role("heading", name="此页面不适用于当前账户")).to_be_visible()
    await expect(page.locator("#not-for-account")).to_contain_text("购车人账户")
    await expect(page.get_by_role("link", name="前往我的页面")).to_have_attribute("href", "/buyer")
    await expect(page.locator("#lookup")).to_be_hidden()


async def test_an_expired_session_is_said_and_the_login_shown_again(
    page: Page, api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    email = await dealer_login(api, admin)
    await page.goto("/dealer")
    await page.locator("#login-form [name=email]").fill(email)
    await page.locator("#login-form [name=password]").fill(PASSWORD)
    await page.locator("#login-form button[type=submit]").click()
    await expect(page.locator("#lookup")).to_be_visible()
    # The desk's sections load after login; let them finish, or one still starting would send
    # the expired token and show the login before the click this test makes.
    await page.wait_for_load_state("networkidle")
    await page.evaluate("sessionStorage.setItem('autofin.token', 'expired')")
    await page.locator("#refresh").click()
    await expect(page.locator("#session-note")).to_have_text("登录已过期，请重新登录。")
    await expect(page.locator("#login-form")).to_be_visible()
    await expect(page.locator("#lookup")).to_be_hidden()
    await expect(page.locator("#login-heading")).to_be_focused()


@pytest.mark.parametrize("width", [360, 414])
async def test_signed_out_pages_fit_a_phone_and_pass_axe(
    browser: Browser, live_server: str, width: int
) -> None:
    context = await browser.new_context(
        base_url=live_server, locale="zh-CN", viewport={"width": width, "height": 800}
    )
    try:
        tab = await context.new_page()
        for path in ("/", "/buyer", "/dealer", "/pay#pi_missing_secret_x"):
            await tab.goto(path)
            await expect(tab.locator("html")).to_have_attribute("lang", "zh-CN")
            await expect(tab.locator("[data-i18n='common.skip']")).to_have_text("跳到主要内容")
            await assert_page_checks(tab)
        await expect(tab.locator("#link-error")).to_have_text("该支付链接无效。")
        favicon = await tab.request.get("/favicon.ico")
        assert favicon.ok
        assert favicon.headers["content-type"].startswith("image/svg+xml")
    finally:
        await context.close()
