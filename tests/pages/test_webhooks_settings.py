"""The webhook settings component (shared/web/static/webhooks.js), mounted in the dealer page's
settings: register an endpoint and see its secret once, read the delivery
log, redeliver, disable; in Chinese and English."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select
from sqlmodel import col

from shared.db import Database
from shared.webhooks import outbox
from shared.webhooks.models import WebhookDelivery
from tests.factories import create_organization, staff_headers

# After the host page has started (its own start-up would sign a lender out of the dealer page).
MOUNT = """async ([token]) => {
  await Autofin.ready;
  sessionStorage.setItem("autofin.token", token);
  await new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/static/webhooks.js";
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
  const box = document.createElement("div");
  box.id = "webhooks-box";
  document.body.append(box);
  await window.AutofinWebhooks.mount(box, Autofin.api, "dealer");
}"""


async def test_a_dealer_registers_an_endpoint_reads_its_deliveries_and_redelivers(
    page: Page, api: httpx.AsyncClient, admin: dict[str, str], committed_database: Database
) -> None:
    dealer = await create_organization(api, admin, "dealer")
    staff = await staff_headers(api, admin, dealer["id"])
    token = staff["Authorization"].removeprefix("Bearer ")
    await page.goto("/dealer")
    await page.evaluate(MOUNT, [token])
    box = page.locator("#webhooks-box")
    await expect(box).to_contain_text("还没有端点")

    # Nothing chosen: refused in the page; then a refused URL: the API's message.
    await box.get_by_label("接收地址").fill("http://example.com/hooks")
    await box.get_by_role("button", name="添加端点").click()
    await expect(box.locator(".error")).to_contain_text("请至少选择一种事件")
    await box.get_by_label("deal.handed_over").check()
    await box.get_by_role("button", name="添加端点").click()
    await expect(box.locator(".error")).to_contain_text("https")

    await box.get_by_label("接收地址").fill("http://127.0.0.1:9/hooks")
    await box.get_by_label("deal.handed_over").check()
    await box.get_by_role("button", name="添加端点").click()
    await expect(box.locator("[data-secret]")).to_contain_text("whsec_")
    await expect(box.locator("tr[data-endpoint]")).to_contain_text("已启用")

    async with committed_database.sessionmaker() as session:
        await outbox.emit(
            session, [uuid.UUID(str(dealer["id"]))], "deal.handed_over", {"deal_id": "D1"}
        )
        await session.commit()
    await box.get_by_role("button", name="投递记录").click()
    row = box.locator("tr[data-delivery]")
    await expect(row).to_contain_text("deal.handed_over")
    await expect(row).to_contain_text("待投递")

    async with committed_database.sessionmaker() as session:
        await session.execute(
            WebhookDelivery.__table__.update().values(status="failed", next_attempt_at=None)
        )
        await session.commit()
    await box.get_by_role("button", name="投递记录").click()
    await expect(row).to_contain_text("已放弃")
    await row.get_by_role("button", name="重新投递").click()
    await expect(row).to_contain_text("待投递")
    async with committed_database.sessionmaker() as session:
        due = await session.scalar(select(col(WebhookDelivery.next_attempt_at)))
    assert due is not None

    await box.get_by_role("button", name="停用").click()
    await expect(box.locator("tr[data-endpoint]")).to_contain_text("已停用")
    listed = (await api.get("/v1/dealer/webhook-endpoints", headers=staff)).json()
    assert listed["items"][0]["enabled"] is False


async def test_the_settings_read_in_english(
    browser: Browser, live_server: str, api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    lender = await create_organization(api, admin, "lender")
    staff = await staff_headers(api, admin, lender["id"])
    context = await browser.new_context(base_url=live_server, locale="en-US")
    page = await context.new_page()
    await page.goto("/dealer")
    await page.evaluate(
        MOUNT.replace('"dealer")', '"lender")'), [staff["Authorization"].removeprefix("Bearer ")]
    )
    box = page.locator("#webhooks-box")
    await expect(box).to_contain_text("No endpoints yet.")
    await expect(box.get_by_role("button", name="Add endpoint")).to_be_visible()
    await context.close()
