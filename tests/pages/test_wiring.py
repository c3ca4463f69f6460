"""Every module reachable where its user looks for it, after a login in the browser: the lender
console's decision queue, collection queue and webhook settings; the dealer's deal desk and
webhook settings; the buyer's contract section; the admin's guarantee figures. Each at phone
width (390 px) with no sideways scrolling and no serious or critical axe-core violation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from shared.db import Database
from shared.identity.service import create_or_reset_admin
from tests.factories import (
    PASSWORD,
    apply,
    create_organization,
    create_product,
    fresh_phone,
    login,
    register_body,
    sms_code,
    unique_email,
)
from tests.pages.a11y import assert_accessible, assert_fits_the_window
from tests.servicing.conftest import book
from tests.stripe_fixtures import LocalStripe

PHONE_WIDTH = 390


@pytest.fixture
async def phone_page(browser: Browser, live_server: str) -> AsyncIterator[Page]:
    context = await browser.new_context(
        base_url=live_server, locale="zh-CN", viewport={"width": PHONE_WIDTH, "height": 844}
    )
    yield await context.new_page()
    await context.close()


async def member(api: httpx.AsyncClient, admin: dict[str, str], organization_id: object) -> str:
    email = unique_email("staff")
    body = {"email": email, "password": PASSWORD, "full_name": "李四", "role": "staff"}
    response = await api.post(
        f"/v1/admin/organizations/{organization_id}/members", json=body, headers=admin
    )
    assert response.status_code == 201, response.text
    return email


async def log_in(page: Page, path: str, email: str) -> None:
    await page.goto(path)
    if path == "/buyer":
        await page.get_by_text("用邮箱和密码登录").click()
    form = page.locator("#login-form")
    await form.get_by_label("邮箱").fill(email)
    await form.get_by_label("密码").fill(PASSWORD)
    await form.get_by_role("button", name="登录").click()


async def check_phone_page(page: Page) -> None:
    await assert_fits_the_window(page)
    await assert_accessible(page)


@dataclass
class ManualDeal:
    """A confirmed deal on a product that waits for its lender's decision, and who is on it."""

    deal_id: str
    lender_email: str
    dealer_email: str
    buyer_email: str


async def manual_deal(api: httpx.AsyncClient, admin: dict[str, str]) -> ManualDeal:
    lender = await create_organization(api, admin, "lender")
    lender_email = await member(api, admin, lender["id"])
    product = await create_product(api, await login(api, lender_email), auto_fund=False)
    phone = fresh_phone()
    body = register_body(phone, await sms_code(api, phone))
    assert (await api.post("/v1/auth/register", json=body)).status_code == 201
    buyer = await login(api, str(body["email"]))
    preapproval = (await apply(api, buyer)).json()["preapproval"]
    offer = next(o for o in preapproval["offers"] if o["product_id"] == product["id"])
    dealer_org = await create_organization(api, admin, "dealer")
    dealer_email = await member(api, admin, dealer_org["id"])
    dealer = await login(api, dealer_email)
    vehicle = {
        "vin": "LSVAM4187C2184847",
        "make": "Volkswagen",
        "model": "Passat",
        "vehicle_type": "new",
        "price": 15_000_000,
    }
    quoted = await api.post(
        "/v1/dealer/deals",
        json={
            "code": preapproval["code"],
            "verifier": phone[-4:],
            "vehicle": vehicle,
            "down_payment": 5_000_000,
            "term_months": 36,
            "offer_id": offer["offer_id"],
        },
        headers=dealer,
    )
    assert quoted.status_code == 201, quoted.text
    deal_id = quoted.json()["id"]
    confirmed = await api.post(
        f"/v1/dealer/deals/{deal_id}/confirm",
        json={"identity_verified": True},
        headers={**dealer, "Idempotency-Key": f"wiring-{deal_id}"},
    )
    assert confirmed.status_code == 200, confirmed.text
    waiting = (await api.get(f"/v1/dealer/deals/{deal_id}", headers=dealer)).json()
    assert waiting["decision"]["status"] == "decision_required", waiting
    return ManualDeal(deal_id, lender_email, dealer_email, str(body["email"]))


async def test_the_lender_console_shows_its_queues_and_webhook_settings(
    stripe_settings: LocalStripe,
    phone_page: Page,
    api: httpx.AsyncClient,
    admin: dict[str, str],
) -> None:
    deal = await manual_deal(api, admin)
    page = phone_page
    await log_in(page, "/lender", deal.lender_email)
    nav = page.locator("nav.sections")
    for section in ("#decisions", "#collections", "#settings"):
        await expect(nav.locator(f"a[href='{section}']")).to_be_visible()
    queue = page.locator("#decisions")
    await expect(queue.get_by_role("heading", name="审批队列")).to_be_visible()
    card = queue.locator(f"article[data-deal-id='{deal.deal_id}']")
    await expect(card.locator(".decision-status")).to_have_text("待审批")
    await expect(card.get_by_role("button", name="批准", exact=True)).to_be_visible()
    collections = page.locator("#collections")
    await expect(collections.get_by_role("heading", name="催收队列")).to_be_visible()
    await expect(page.locator("#settings [data-webhooks=lender]")).to_contain_text("还没有端点")
    await check_phone_page(page)
    # Deciding from the console: the deal leaves the waiting queue, and the dealer sees it.
    await card.get_by_role("button", name="批准", exact=True).click()
    await expect(queue).to_contain_text("没有交易。")
    dealer = await login(api, deal.dealer_email)
    decided = (await api.get(f"/v1/dealer/deals/{deal.deal_id}", headers=dealer)).json()
    assert decided["decision"]["status"] == "approved"
    # The stand-alone queue page is gone: the console is the one place.
    assert (await api.get("/lender/decisions")).status_code == 404


async def test_the_dealer_sees_the_deal_desk_and_adds_a_webhook_endpoint(
    stripe_settings: LocalStripe,
    phone_page: Page,
    api: httpx.AsyncClient,
    admin: dict[str, str],
) -> None:
    deal = await manual_deal(api, admin)
    page = phone_page
    await log_in(page, "/dealer", deal.dealer_email)
    desk = page.locator("#autofin-deal-documents")
    await expect(desk).to_be_visible()
    card = desk.locator(f"article[data-deal-id='{deal.deal_id}']")
    await expect(card.locator(".decision-status")).to_have_text("待审批")
    settings = page.locator("#settings")
    await expect(settings).to_contain_text("还没有端点")
    await settings.get_by_label("接收地址").fill("https://hooks.example.com/autofin")
    await settings.get_by_label("deal.decision_required").check()
    await settings.get_by_role("button", name="添加端点").click()
    await expect(settings.locator("[data-secret]")).to_contain_text("whsec_")
    row = settings.locator("tr[data-endpoint]")
    await expect(row).to_contain_text("https://hooks.example.com/autofin")
    await expect(row).to_contain_text("已启用")
    await check_phone_page(page)


async def test_the_buyer_sees_the_contract_section_after_logging_in(
    stripe_settings: LocalStripe,
    phone_page: Page,
    api: httpx.AsyncClient,
    admin: dict[str, str],
) -> None:
    deal = await manual_deal(api, admin)
    page = phone_page
    await log_in(page, "/buyer", deal.buyer_email)
    contract = page.locator("#autofin-contract")
    await expect(contract).to_be_visible()
    await expect(contract.get_by_role("heading", level=2)).to_have_text("贷款合同与审批")
    await expect(
        contract.locator(f"article[data-deal-id='{deal.deal_id}'] .decision-status")
    ).to_have_text("待审批")
    await check_phone_page(page)


async def test_the_admin_console_shows_the_platform_guarantee(
    phone_page: Page, api: httpx.AsyncClient, committed_database: Database
) -> None:
    async with committed_database.sessionmaker() as session:
        await book(api, session, platform_guarantee=True)
        await session.commit()
    email = unique_email("admin")
    async with committed_database.sessionmaker() as session, session.begin():
        await create_or_reset_admin(session, email=email, password=PASSWORD)
    view = (await api.get("/v1/admin/guarantee", headers=await login(api, email))).json()
    assert view["guaranteed_loans"] >= 1 and view["guaranteed_outstanding"] > 0, view
    page = phone_page
    await log_in(page, "/admin", email)
    await expect(page.locator("nav.sections a[href='#guarantee']")).to_be_visible()
    figures = page.locator("#guarantee-facts")
    shown = await page.evaluate(
        """(view) => [Autofin.money(view.guaranteed_outstanding), Autofin.money(view.claims_paid),
           Autofin.money(view.reserve.balance)]""",
        view,
    )
    await expect(figures.locator("div").filter(has_text="担保敞口")).to_contain_text(shown[0])
    await expect(figures.locator("div").filter(has_text="已代偿金额")).to_contain_text(shown[1])
    await expect(figures.locator("div").filter(has_text="准备金余额")).to_contain_text(shown[2])
    await expect(page.locator("#guarantee-claims")).to_contain_text("最近的代偿")
    await check_phone_page(page)
