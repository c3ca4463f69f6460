"""A buyer uses the web page: registers, applies with consent, sees the offers, quotes a car."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from tests.factories import (
    PASSWORD,
    create_organization,
    create_product,
    national_id,
    staff_headers,
    unique_email,
)


async def test_a_buyer_applies_on_the_page_and_sees_ranked_offers(
    page: Page, api: httpx.AsyncClient, admin: dict[str, str], tmp_path: Path
) -> None:
    lender = await create_organization(api, admin, "lender", name="招银汽车金融")
    await create_product(api, await staff_headers(api, admin, lender["id"]), name="安心车贷")

    await page.goto("/buyer")
    register = page.locator("#register-form")
    await register.get_by_label("Full name").fill("王芳")
    await register.get_by_label("Mobile").fill("13800138001")
    await register.get_by_role("button", name="Send code").click()
    dev_sms = page.locator("#dev-sms")
    await expect(dev_sms).to_contain_text("Development only")
    code = (await dev_sms.text_content() or "").rsplit(" ", 1)[-1]
    await register.get_by_label("SMS code").fill(code)
    await register.get_by_label("Email").fill(unique_email("page"))
    await register.get_by_label("Password").fill(PASSWORD)
    await register.get_by_role("button", name="Register").click()

    form = page.locator("#apply-form")
    await form.get_by_label("National ID").fill(national_id(34))
    await form.get_by_label("Age 年龄", exact=True).fill("34")
    await form.get_by_label("Monthly income").fill("18000")
    await form.get_by_label("Months employed").fill("72")
    await form.get_by_label("Housing").select_option("mortgage")
    await form.get_by_label("I authorise").check()
    await form.get_by_label("I separately agree").check()
    await form.get_by_role("button", name="Apply").click()

    await expect(page.locator("#decision-facts")).to_contain_text("approved")
    await expect(page.locator("#offers table tbody tr")).to_have_count(1)
    await expect(page.locator("#offers")).to_contain_text("招银汽车金融")
    code = await page.locator("#decision-facts .code").text_content()
    assert code and len(code) == 8
    await expect(page.locator("#decision-explanation")).to_contain_text("人工复核")
    consents = page.locator("#consent-list")
    await expect(consents).to_contain_text("征信查询授权")
    await expect(consents).to_contain_text("招银汽车金融")
    await consents.get_by_role("button", name="Withdraw").click()
    await expect(consents).to_contain_text("Withdrawn 已撤回")

    quote = page.locator("#quote-form")
    await quote.get_by_label("Car price").fill("200000")
    await quote.get_by_label("Down payment").fill("60000")
    await quote.get_by_role("button", name="Quote").click()
    await expect(page.locator("#quote-offers table tbody tr").first).to_contain_text("¥140,000.00")
    await expect(page.locator("#car-grade")).to_contain_text("your pre-approval:")

    if os.environ.get("AUTOFIN_SCREENSHOTS"):
        await page.screenshot(path=os.environ["AUTOFIN_SCREENSHOTS"] + "/buyer.png", full_page=True)


async def test_a_refusal_is_shown_on_the_page(page: Page, api: httpx.AsyncClient) -> None:
    await page.goto("/buyer")
    login = page.locator("#login-form")
    await login.get_by_label("Email").fill(unique_email())
    await login.get_by_label("Password").fill("wrong password")
    await login.get_by_role("button", name="Log in").click()
    await expect(login.locator(".error")).to_have_text("Incorrect email or password.")


async def test_pages_carry_a_strict_content_security_policy(api: httpx.AsyncClient) -> None:
    for path in ("/", "/buyer"):
        response = await api.get(path)
        assert response.status_code == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
