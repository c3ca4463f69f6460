"""A buyer uses the web page: registers, applies with consent, sees the offers, quotes a car."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, expect

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
    await register.get_by_label("姓名").fill("王芳")
    await register.get_by_label("手机号").fill("13800138001")
    await register.get_by_role("button", name="获取验证码").click()
    dev_sms = page.locator("#dev-sms")
    await expect(dev_sms).to_contain_text("仅限开发环境")
    sent = re.search(r"(\d+)$", (await dev_sms.text_content() or "").strip())
    assert sent, await dev_sms.text_content()
    await register.get_by_label("短信验证码").fill(sent.group(1))
    await register.get_by_label("邮箱").fill(unique_email("page"))
    await register.get_by_label("密码").fill(PASSWORD)
    await register.get_by_role("button", name="注册").click()

    form = page.locator("#apply-form")
    await form.get_by_label("身份证号").fill(national_id(34))
    await form.get_by_label("年龄", exact=True).fill("34")
    await form.get_by_label("月收入").fill("18000")
    await form.get_by_label("工作月数").fill("72")
    await form.get_by_label("住房").select_option("mortgage")
    await form.get_by_label("本人授权").check()
    await form.get_by_label("本人单独同意").check()
    await form.get_by_role("button", name="提交申请").click()

    await expect(page.locator("#decision-facts")).to_contain_text("已批准")
    await expect(page.locator("#decision-facts")).to_contain_text("年")  # 2027年1月15日
    await expect(page.locator("#offers table tbody tr")).to_have_count(1)
    await expect(page.locator("#offers")).to_contain_text("招银汽车金融")
    code = await page.locator("#decision-facts .code").text_content()
    assert code and len(code) == 8
    await expect(page.locator("#decision-explanation")).to_contain_text("人工复核")
    consents = page.locator("#consent-list")
    await expect(consents).to_contain_text("征信查询授权")
    await expect(consents).to_contain_text("招银汽车金融")
    await consents.get_by_role("button", name="撤回").click()
    await expect(consents).to_contain_text("已撤回")

    quote = page.locator("#quote-form")
    await quote.get_by_label("车价").fill("200000")
    await quote.get_by_label("首付").fill("60000")
    await quote.get_by_role("button", name="试算").click()
    await expect(page.locator("#quote-offers table tbody tr").first).to_contain_text("¥14万")
    await expect(page.locator("#car-grade")).to_contain_text("您的预审批：")

    if os.environ.get("AUTOFIN_SCREENSHOTS"):
        await page.screenshot(path=os.environ["AUTOFIN_SCREENSHOTS"] + "/buyer.png", full_page=True)


async def test_a_refusal_is_shown_on_the_page(page: Page, api: httpx.AsyncClient) -> None:
    await page.goto("/buyer")
    await page.get_by_text("用邮箱和密码登录").click()
    login = page.locator("#login-form")
    await login.get_by_label("邮箱").fill(unique_email())
    await login.get_by_label("密码").fill("wrong password")
    await login.get_by_role("button", name="登录").click()
    await expect(login.locator(".error")).to_have_text("邮箱或密码不正确。")


async def test_a_chinese_browser_sees_chinese_and_the_switch_shows_english_remembered(
    page: Page, api: httpx.AsyncClient
) -> None:
    await page.goto("/")
    await expect(page.locator("h2")).to_have_text("先知道能贷多少，再去选车")
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    await page.get_by_role("button", name="English").click()
    await expect(page.locator("h2")).to_have_text(
        "Know what you can borrow before you pick the car"
    )
    assert await page.locator("html").get_attribute("lang") == "en"

    # Remembered on every page, and the server answers in English too.
    await page.goto("/buyer")
    login = page.locator("#login-form")
    phone_login = page.locator("#phone-login-form")
    await expect(phone_login.get_by_role("button", name="Log in")).to_be_visible()
    register = page.locator("#register-form")
    await expect(register.get_by_role("button", name="Send code")).to_be_visible()
    await expect(register.get_by_label("SMS code")).to_be_visible()
    await page.get_by_text("Log in with email and password").click()
    await login.get_by_label("Email").fill(unique_email())
    await login.get_by_label("Password").fill("wrong password")
    await login.get_by_role("button", name="Log in").click()
    await expect(login.locator(".error")).to_have_text("Incorrect email or password.")
    await page.get_by_role("button", name="中文").click()
    await expect(phone_login.get_by_role("button", name="登录")).to_be_visible()


async def test_an_english_browser_sees_english_at_once(browser: Browser, live_server: str) -> None:
    context = await browser.new_context(base_url=live_server, locale="en-US")
    try:
        tab = await context.new_page()
        await tab.goto("/dealer")
        await expect(tab.get_by_role("heading", name="Staff log in")).to_be_visible()
        await expect(tab.get_by_role("button", name="中文")).to_be_visible()
    finally:
        await context.close()


async def test_the_pages_strings_come_in_both_languages(api: httpx.AsyncClient) -> None:
    chinese = (await api.get("/i18n/zh_CN.json")).json()
    english = (await api.get("/i18n/en.json")).json()
    assert chinese.keys() == english.keys()
    assert chinese["deal_status.handed_over"] == "已交车"
    assert english["deal_status.handed_over"] == "Handed over"
    assert chinese["down_payment_status.not_requested"] == "未发起"


async def test_pages_carry_a_strict_content_security_policy(api: httpx.AsyncClient) -> None:
    for path in ("/", "/buyer"):
        response = await api.get(path)
        assert response.status_code == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
