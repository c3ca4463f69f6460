"""Dealer staff run a handover on the portal page, and Stripe's webhook hands the car over."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import httpx
from playwright.async_api import Page, expect

from tests.factories import (
    PASSWORD,
    apply,
    buyer_headers,
    create_organization,
    lender_with_product,
    unique_email,
)
from tests.stripe_fixtures import LocalStripe

VIN = "LBV5S1106MS000001"  # BMW Brilliance (华晨宝马), check digit verified


async def test_a_dealer_confirms_a_handover_on_the_portal_and_the_down_payment_completes_it(
    stripe_settings: LocalStripe,
    page: Page,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    live_server: str,
) -> None:
    await lender_with_product(api, admin, name="安心车贷")
    buyer = await buyer_headers(api, phone="13800138001")
    preapproval = (await apply(api, buyer)).json()["preapproval"]
    dealer = await create_organization(api, admin, "dealer", name="上海浦东宝马4S店")
    email = unique_email("dealer")
    member = {"email": email, "password": PASSWORD, "full_name": "销售", "role": "staff"}
    await api.post(f"/v1/admin/organizations/{dealer['id']}/members", json=member, headers=admin)
    hook = f"page-{uuid.uuid4().hex[:8]}"
    webhook_url = f"{live_server}/v1/stripe/webhook"
    await stripe_settings.register_webhook(hook, webhook_url, ["payment_intent.succeeded"])
    try:
        await page.goto("/dealer")
        login = page.locator("#login-form")
        await login.get_by_label("邮箱").fill(email)
        await login.get_by_label("密码").fill(PASSWORD)
        await login.get_by_role("button", name="登录").click()

        lookup = page.locator("#lookup-form")
        await lookup.get_by_label("审批码").fill(preapproval["code"].lower())
        await lookup.get_by_label("手机后四位").fill("8001")
        await lookup.get_by_role("button", name="查询").click()
        await expect(page.locator("#approval")).to_contain_text("张*")

        deal = page.locator("#deal-form")
        await deal.get_by_label("车架号").fill(VIN)
        await deal.get_by_label("车架号").press("Tab")
        # The VIN names its maker, and the make is filled in from the brand catalogue.
        await expect(deal.get_by_label("品牌")).to_have_value("宝马")
        await expect(page.locator("#vin-note")).to_contain_text("BMW Brilliance")
        await deal.get_by_label("车型").fill("325Li")
        await deal.get_by_label("车价").fill("300000")
        # The pre-approval graded the worst structure (a smaller line); this car earns its own.
        await deal.get_by_label("首付").fill("120000")
        await deal.get_by_role("button", name="报价").click()
        await expect(page.locator("#quote")).to_contain_text("¥18万")
        await expect(page.locator("#quote")).to_contain_text(f"您的预审批：{preapproval['grade']}")

        confirm = page.locator("#confirm-form")
        await confirm.get_by_label("已核对").check()
        await confirm.get_by_role("button", name="交车确认").click()
        await expect(page.locator("#confirmed")).to_contain_text("已确认")
        intent_id = await page.locator("#confirmed strong").nth(3).text_content()
        assert intent_id and intent_id.startswith("pi_")

        # The buyer pays the down payment (Stripe.js's part); Stripe posts the webhook.
        client = stripe_settings.client()
        card = await stripe_settings.create_card_payment_method()
        await client.v1.payment_intents.update_async(intent_id, {"payment_method": card})
        await client.v1.payment_intents.confirm_async(intent_id)
        pipeline = page.locator("#deals tbody tr").first
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            await page.locator("#refresh").click()
            if "已交车" in (await pipeline.text_content() or ""):
                break
            await asyncio.sleep(0.5)
        await expect(pipeline).to_contain_text("已交车")
        await expect(pipeline).to_contain_text("已支付")
        await expect(pipeline).to_contain_text("宝马 325Li")
        if os.environ.get("AUTOFIN_SCREENSHOTS"):
            await page.screenshot(
                path=os.environ["AUTOFIN_SCREENSHOTS"] + "/dealer.png", full_page=True
            )
    finally:
        await stripe_settings.register_webhook(hook, webhook_url, events=[])


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
