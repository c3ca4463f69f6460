"""The lender funds a deal from its console once every gate holds, and the dealer's desk shows
what it is paid: in Chinese on a phone and in English on a desktop, checked with axe."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from autofin.main import create_app
from shared.db import Database
from shared.identity.service import create_or_reset_admin
from tests.dealer_portal.funding.conftest import connect, insure, lot, ready_deal
from tests.factories import PASSWORD, login, unique_email
from tests.pages.conftest import NewTab, tabs
from tests.pages.test_consoles import SETTINGS, check_layout_and_accessibility, log_in, member, say
from tests.servers import serving
from tests.stripe_fixtures import LocalStripe


@pytest.fixture
async def funding_server(
    stripe_settings: LocalStripe, committed_database: Database
) -> AsyncIterator[str]:
    """The app on a database of its own, paying through the Stripe emulator (dealers are paid
    through the transfer sandbox: the emulator has no Transfers)."""
    async with serving(create_app(committed_database)) as url:
        yield url


@pytest.fixture
async def api(funding_server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=funding_server, timeout=60) as client:
        yield client


@pytest.fixture
async def open_page(browser: Browser, funding_server: str) -> AsyncIterator[NewTab]:
    async with tabs(browser, funding_server) as new_tab:
        yield new_tab


@pytest.mark.parametrize(("locale", "width"), SETTINGS)
async def test_a_lender_funds_a_deal_once_its_gates_hold_and_the_dealer_sees_it_paid(
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
    s = await lot(api, admin)
    await connect(api, admin, s.dealer_id)
    deal = await ready_deal(api, s, insured=False)
    lender_email = await member(api, admin, s.m.lender_id)

    page = await open_page(locale, width)
    await log_in(page, t, "/lender", lender_email)
    pending = page.locator("#pending tbody tr").first
    await expect(pending.locator("[data-gate=contract_signed]")).to_contain_text(
        t("lender.gate_held")
    )
    await expect(pending.locator("[data-gate=insurance]")).to_contain_text(t("lender.gate_missing"))
    fund = pending.get_by_role("button", name=t("lender.fund"))
    await expect(fund).to_be_disabled()
    await check_layout_and_accessibility(page, width, f"lender-funding-{locale}")

    # The dealer records the policy naming the lender first beneficiary: the gate holds.
    insured = await insure(api, s, deal.deal_id, beneficiary=s.lender_name)
    assert insured.status_code == 200, insured.text
    await page.locator("#refresh").click()
    await expect(pending.locator("[data-gate=insurance]")).to_contain_text(t("lender.gate_held"))
    await expect(fund).to_be_enabled()
    await fund.click()
    await expect(page.locator("#funding-result")).to_contain_text(t("disbursement.paid"))
    await expect(page.locator("#pending")).to_contain_text(t("console.none"))
    await check_layout_and_accessibility(page, width, f"lender-funded-{locale}")

    dealer_email = await member(api, admin, s.dealer_id)
    desk = await open_page(locale, width)
    await log_in(desk, t, "/dealer", dealer_email)
    card = desk.locator(f".desk-deal[data-deal-id='{deal.deal_id}']")
    await expect(card.locator(".funding")).to_contain_text(t("loan_status.active"))
    await expect(card.locator(".funding")).to_contain_text(t("disbursement.paid"))
    await check_layout_and_accessibility(desk, width, f"dealer-funded-{locale}")
