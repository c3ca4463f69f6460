"""The lender, advisor and admin consoles: each one's main task in Chinese on a phone and in
English on a desktop, with no horizontal overflow on the phone and no serious or critical axe-core
finding; another role's account gets the "not for this account" page."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select
from sqlmodel import col

from marketplace.preapprovals.models import LockedOffer, Preapproval, PreapprovalLookup
from marketplace.products.models import ProductVersion
from marketplace.servicing import service as servicing
from shared import i18n
from shared.db import Database, utcnow
from shared.identity.principal import Principal
from shared.identity.service import create_or_reset_admin
from tests.factories import (
    PASSWORD,
    apply,
    buyer_headers,
    create_organization,
    create_product,
    login,
    staff_headers,
    unique_email,
    unique_vin,
    valid_uscc,
)
from tests.pages.conftest import NewTab, tabs
from tests.scorecard_cards import card

VIN = "LBV5S1106MS000001"  # BMW Brilliance (华晨宝马), check digit verified
# Each task runs once in Chinese on a phone and once in English on a desktop.
SETTINGS = [
    pytest.param("zh-CN", 390, id="zh-CN-390"),
    pytest.param("en-US", 1366, id="en-1366"),
]
Say = Callable[..., str]


def say(locale: str) -> Say:
    """The page's strings as the reader sees them, from the same catalogue the page loads."""
    messages = i18n.translations("pages", "en" if locale.startswith("en") else "zh_CN")

    def text(key: str, **params: object) -> str:
        return messages[key].format(**params)

    return text


@pytest.fixture
async def open_page(browser: Browser, live_server: str) -> AsyncIterator[NewTab]:
    async with tabs(browser, live_server) as new_tab:
        yield new_tab


async def check_layout_and_accessibility(page: Page, width: int, name: str) -> None:
    """No sideways scrolling on a phone; no serious or critical axe-core violation."""
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: {overflow}px of horizontal overflow at {width}px"
    results = await Axe().run(page)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, f"{name}: {serious}"
    if os.environ.get("AUTOFIN_SCREENSHOTS"):
        await page.screenshot(
            path=f"{os.environ['AUTOFIN_SCREENSHOTS']}/{name}-{width}.png", full_page=True
        )


async def log_in(page: Page, t: Say, path: str, email: str) -> None:
    await page.goto(path)
    form = page.locator("#login-form")
    await form.get_by_label(t("common.email")).fill(email)
    await form.get_by_label(t("common.password")).fill(PASSWORD)
    await form.get_by_role("button", name=t("common.login")).click()


async def member(api: httpx.AsyncClient, admin: dict[str, str], organization_id: object) -> str:
    email = unique_email("staff")
    body = {"email": email, "password": PASSWORD, "full_name": "李四", "role": "staff"}
    response = await api.post(
        f"/v1/admin/organizations/{organization_id}/members", json=body, headers=admin
    )
    assert response.status_code == 201, response.text
    return email


@pytest.mark.parametrize(("locale", "width"), SETTINGS)
async def test_a_lender_publishes_a_new_version_sees_a_deal_on_it_and_a_loan_to_fund(
    open_page: Callable[..., Any],
    api: httpx.AsyncClient,
    admin: dict[str, str],
    committed_database: Database,
    locale: str,
    width: int,
) -> None:
    t = say(locale)
    lender = await create_organization(api, admin, "lender", name="招银汽车金融")
    email = await member(api, admin, lender["id"])
    staff = await login(api, email)
    product = await create_product(api, staff, name="安心车贷", auto_fund=False)
    page = await open_page(locale, width)
    await log_in(page, t, "/lender", email)
    products = page.locator("#product-list")
    await expect(products).to_contain_text("安心车贷")
    await expect(products).to_contain_text("v1")

    await products.get_by_role(
        "button", name=t("lender.new_version_of_short", name="安心车贷")
    ).click()
    editor = page.locator("#product-form")
    await expect(page.locator("#editor-heading")).to_have_text(
        t("lender.new_version_of", name="安心车贷", version=2)
    )
    # Each grade shows its fair band and the cap; a rate over the cap is refused unsent.
    a1 = page.locator(".rate-cell").filter(has=page.locator("#rate-A1"))
    await expect(a1).to_contain_text(t("lender.cap", cap="24.00%"))
    await editor.locator("#rate-A1").fill("30")
    await expect(a1).to_contain_text(t("lender.over_cap"))
    await editor.get_by_role("button", name=t("lender.publish_version")).click()
    await expect(editor.locator(".error")).to_contain_text("A1")
    still = (await api.get(f"/v1/lender/products/{product['id']}", headers=staff)).json()
    assert still["version"] == 1

    await editor.locator("#rate-A1").fill("4")
    await editor.get_by_role("button", name=t("lender.publish_version")).click()
    await expect(page.locator("#product-note")).to_have_text(
        t("lender.published", name="安心车贷", version=2)
    )
    published = (await api.get(f"/v1/lender/products/{product['id']}", headers=staff)).json()
    assert published["version"] == 2 and published["rate_card"]["A1"] == "0.040000"
    await expect(page.locator("#versions")).to_contain_text("v2")
    await expect(page.locator("#versions")).to_contain_text("v1")

    # A buyer is approved on the new version, and a dealer quotes a car on it.
    buyer = await buyer_headers(api, phone="13800138001")
    preapproval = (await apply(api, buyer)).json()["preapproval"]
    dealer = await create_organization(api, admin, "dealer", name="上海浦东宝马4S店")
    dealer_staff = await staff_headers(api, admin, dealer["id"])
    deal = await api.post(
        "/v1/dealer/deals",
        json={
            "code": preapproval["code"],
            "verifier": "8001",
            "vehicle": {
                "vin": unique_vin(VIN),
                "make": "宝马",
                "model": "325Li",
                "vehicle_type": "new",
                "price": 30_000_000,
            },
            "down_payment": 12_000_000,
            "term_months": 36,
            "offer_id": preapproval["offers"][0]["offer_id"],
        },
        headers=dealer_staff,
    )
    assert deal.status_code == 201, deal.text
    # And a loan booked on it at another handover waits for this lender's funding.
    await book_pending_loan(committed_database, preapproval["id"], dealer["id"])

    await page.locator("#refresh").click()
    deals = page.locator("#deals tbody tr").first
    await expect(deals).to_contain_text("安心车贷 v2")
    await expect(deals).to_contain_text("上海浦东宝马4S店")
    await expect(deals).to_contain_text(t("deal_status.quoted"))
    await expect(deals).to_contain_text("宝马 325Li" if locale == "zh-CN" else "BMW 325Li")
    pending = page.locator("#pending tbody tr").first
    await expect(pending).to_contain_text("上海浦东宝马4S店")
    # Booked with no deal behind it, it meets none of the funding gates: not fundable here.
    await expect(pending.locator("[data-gate=insurance]")).to_contain_text(t("lender.gate_missing"))
    await expect(
        pending.get_by_role(
            "button",
            name=t("lender.fund_named", amount="¥10万" if locale == "zh-CN" else "CN¥100,000.00"),
        )
    ).to_be_disabled()
    await page.reload()  # the portfolio, drawn at sign-in, now counts the booked loan
    grade = preapproval["grade"]
    await expect(page.locator("#portfolio-table")).to_contain_text(grade)
    drawn = await page.evaluate("window.Chart.getChart('portfolio-chart').data.labels")
    assert drawn == [grade]
    await check_layout_and_accessibility(page, width, f"lender-{locale}")


async def book_pending_loan(database: Database, preapproval_id: str, dealer_id: object) -> None:
    """A loan booked on the pre-approval's locked offer, not yet funded (its product does not
    fund automatically), as a confirmed handover leaves it."""
    async with database.sessionmaker() as session, session.begin():
        preapproval = await session.get(Preapproval, uuid.UUID(preapproval_id))
        assert preapproval is not None
        offer = (
            await session.execute(
                select(LockedOffer).where(col(LockedOffer.preapproval_id) == preapproval.id)
            )
        ).scalar_one()
        version = await session.get(ProductVersion, offer.product_version_id)
        assert version is not None
        dealer = uuid.UUID(str(dealer_id))
        await servicing.book_loan(
            session,
            Principal(role="dealer", user_id=uuid.uuid4(), organization_id=dealer),
            preapproval_id=preapproval.id,
            offer_id=offer.id,
            product_version_id=offer.product_version_id,
            lender_id=offer.lender_id,
            buyer_id=preapproval.buyer_id,
            dealer_id=dealer,
            principal=min(10_000_000, offer.amount),
            annual_rate=offer.annual_rate,
            term_months=36,
            method=version.method,
            upfront_fee=version.upfront_fee,
            grade=preapproval.grade,
            platform_guarantee=version.platform_guarantee,
            auto_fund=version.auto_fund,
            loan_date=utcnow().date(),
            vehicle={"vin": unique_vin(VIN), "make": "宝马", "model": "325Li", "price": 30_000_000},
        )


@pytest.mark.parametrize(("locale", "width"), SETTINGS)
async def test_an_advisor_answers_a_buyer_and_clears_a_diversion_alert(
    open_page: Callable[..., Any],
    api: httpx.AsyncClient,
    admin: dict[str, str],
    committed_database: Database,
    locale: str,
    width: int,
) -> None:
    t = say(locale)
    email = unique_email("advisor")
    created = await api.post(
        "/v1/admin/advisors",
        json={"email": email, "password": PASSWORD, "full_name": "陈顾问"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    await create_organization(api, admin, "lender")
    lender = (await api.get("/v1/admin/organizations?kind=lender", headers=admin)).json()
    await create_product(api, await staff_headers(api, admin, lender["items"][0]["id"]))
    buyer = await buyer_headers(api, phone="13800138002")
    preapproval = (await apply(api, buyer)).json()["preapproval"]
    sent = await api.post("/v1/buyer/messages", json={"body": "可以贷多少？"}, headers=buyer)
    assert sent.status_code == 201, sent.text
    dealer = await create_organization(api, admin, "dealer", name="杭州西湖奥迪4S店")
    async with committed_database.sessionmaker() as session, session.begin():
        session.add(
            PreapprovalLookup(
                preapproval_id=uuid.UUID(preapproval["id"]),
                dealer_id=uuid.UUID(str(dealer["id"])),
                looked_up_at=utcnow() - timedelta(days=1, minutes=5),
            )
        )

    page = await open_page(locale, width)
    await log_in(page, t, "/advisor", email)
    row = page.locator("#buyer-list tbody tr").first
    await expect(row).to_contain_text(t("preapproval_status.active"))
    await expect(row.locator(".badge")).to_have_text("1")
    alerts = page.locator("#alert-list")
    await expect(alerts).to_contain_text("杭州西湖奥迪4S店")

    await row.get_by_role("button").click()
    await expect(page.locator("#messages")).to_contain_text("可以贷多少？")
    await expect(row.locator(".badge")).to_have_count(0)  # opening it read it
    reply = page.locator("#reply-form")
    await reply.get_by_label(t("advisor.reply")).fill("您的额度见预审批，随时联系我。")
    await reply.get_by_role("button", name=t("advisor.send")).click()
    await expect(page.locator("#messages li.advisor")).to_contain_text("您的额度见预审批")
    thread = (await api.get("/v1/buyer/messages", headers=buyer)).json()["items"]
    assert [m["sender"] for m in thread] == ["buyer", "advisor"]

    await check_layout_and_accessibility(page, width, f"advisor-{locale}")
    handled = t("advisor.handled_named", name="张三", dealer="杭州西湖奥迪4S店")
    await alerts.get_by_role("button", name=handled).click()
    await expect(alerts).to_contain_text(t("console.none"))
    advisor = await login(api, email)
    assert (await api.get("/v1/advisor/alerts", headers=advisor)).json() == []


@pytest.mark.parametrize(("locale", "width"), SETTINGS)
async def test_an_admin_issues_and_revokes_an_api_key_and_activates_a_scorecard(
    open_page: Callable[..., Any],
    api: httpx.AsyncClient,
    committed_database: Database,
    locale: str,
    width: int,
) -> None:
    t = say(locale)
    email = unique_email("admin")
    async with committed_database.sessionmaker() as session, session.begin():
        await create_or_reset_admin(session, email=email, password=PASSWORD)
    admin = await login(api, email)
    version = f"console-{uuid.uuid4().hex[:6]}"
    published = await api.post("/v1/admin/scorecards", json=card(version), headers=admin)
    assert published.status_code == 201, published.text

    page = await open_page(locale, width)
    await log_in(page, t, "/admin", email)
    # The credit code is checked: a wrong one is refused in the form, a right one creates.
    lenders = page.locator("#lender-form")
    await lenders.get_by_label(t("admin.lender_name")).fill("平安汽车金融")
    await lenders.get_by_label(t("admin.uscc")).fill("911100000000000000")
    await lenders.get_by_role("button", name=t("admin.create_lender")).click()
    await expect(lenders.locator(".error")).not_to_be_empty()
    await lenders.get_by_label(t("admin.uscc")).fill(valid_uscc())
    await lenders.get_by_role("button", name=t("admin.create_lender")).click()
    await expect(page.locator("#org-note")).to_have_text(t("admin.created", name="平安汽车金融"))

    orgs = page.locator("#org-list")
    await orgs.get_by_role("button", name=t("admin.manage_named", name="平安汽车金融")).click()
    keys = page.locator("#key-form")
    await keys.get_by_label(t("admin.key_name")).fill("core-banking")
    await keys.get_by_role("button", name=t("admin.issue_key")).click()
    secret = page.locator("#new-key-value")
    await expect(secret).to_contain_text("afk_")
    key = (await secret.text_content() or "").strip()
    with_key = {"Authorization": f"Bearer {key}"}
    assert (await api.get("/v1/lender/products", headers=with_key)).status_code == 200
    key_list = page.locator("#key-list")
    await key_list.get_by_role("button", name=t("admin.revoke_named", name="core-banking")).click()
    await expect(key_list).not_to_contain_text(t("admin.key_live"))
    await expect(key_list.get_by_role("button")).to_have_count(0)
    await expect(page.locator("#new-key")).to_be_hidden()
    assert (await api.get("/v1/lender/products", headers=with_key)).status_code == 401

    cards = page.locator("#scorecard-list")
    await cards.get_by_role("button", name=t("admin.activate_named", version=version)).click()
    row = cards.locator("tr", has_text=version)
    await expect(page.locator("#scorecards-error")).to_be_empty()
    await expect(row.locator("td").nth(1)).to_have_text(t("scorecard_role.champion"))
    roles = (await api.get("/v1/admin/scorecards", headers=admin)).json()["items"]
    assert [c["role"] for c in roles if c["version"] == version] == ["champion"]

    # The audit log finds the activation by the scorecard and by the admin's email.
    audit = page.locator("#audit-form")
    await audit.get_by_label(t("admin.actor")).fill(email)
    await audit.get_by_role("button", name=t("admin.search")).click()
    await expect(page.locator("#audit-list")).to_contain_text("scorecard")
    await expect(page.locator("#audit-list")).to_contain_text("api_key")
    await check_layout_and_accessibility(page, width, f"admin-{locale}")


async def test_another_roles_account_gets_the_not_for_this_account_page(
    open_page: Callable[..., Any], api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    t = say("zh-CN")
    dealer = await create_organization(api, admin, "dealer")
    email = await member(api, admin, dealer["id"])
    page = await open_page("zh-CN", 390)
    await log_in(page, t, "/lender", email)
    # The consoles use the one "not for this account" notice every page uses (app.js).
    wrong = page.locator("#not-for-account")
    await expect(wrong.get_by_role("heading")).to_have_text(t("common.not_for_account"))
    await expect(wrong).to_contain_text(
        t("common.not_for_account_detail", role=t("role.dealer"), wanted=t("role.lender"))
    )
    await expect(wrong.get_by_role("link")).to_have_attribute("href", "/dealer")
    await expect(page.locator("#login-form")).to_be_hidden()
    await expect(page.locator("#console")).to_be_hidden()
    await check_layout_and_accessibility(page, 390, "wrong-role")
    # The same session opening the admin console is told the same, without logging in again.
    await page.goto("/admin")
    await expect(page.locator("#not-for-account")).to_contain_text(
        t("common.not_for_account_detail", role=t("role.dealer"), wanted=t("role.admin"))
    )
    # The link takes the dealer to their own page, signed in.
    await page.locator("#not-for-account").get_by_role("link").click()
    await expect(page).to_have_url(f"{str(api.base_url).rstrip('/')}/dealer")
    await expect(page.locator("#pipeline")).to_be_visible()


async def test_the_landing_page_explains_the_product_and_links_every_roles_entry(
    open_page: Callable[..., Any],
) -> None:
    t = say("zh-CN")
    page = await open_page("zh-CN", 390)
    await page.goto("/")
    await expect(page.locator("main")).to_contain_text(t("landing.step_offers"))
    for path in ("/buyer", "/dealer", "/lender", "/advisor", "/admin"):
        await expect(page.locator(f'main li a[href="{path}"]')).to_have_count(1)
    await check_layout_and_accessibility(page, 390, "landing")
