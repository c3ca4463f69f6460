"""Collateral in the pages, in a real browser: the dealer records a funded deal's registration
on its desk (certificate uploaded, then the registration), and the lender console shows each
loan's collateral status as a badge with the overdue ones apart. Chinese on a phone, English on
a desktop; layout and axe-core checked."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select, update
from sqlmodel import col

from autofin.jobs import run_daily_jobs
from marketplace.collateral.models import LoanCollateral
from shared.db import Database
from tests.dealer_portal.collateral.test_collateral import PDF, handed_over
from tests.factories import staff_headers
from tests.pages.a11y import assert_accessible, assert_fits_the_window, assert_page_checks
from tests.pages.conftest import tabs
from tests.pages.test_consoles import SETTINGS, say


@pytest.fixture
async def open_page(browser: Browser, paying_server: str) -> AsyncIterator[Callable[..., Any]]:
    async with tabs(browser, paying_server) as new_tab:

        async def opener(locale: str, width: int, path: str, headers: dict[str, str]) -> Page:
            page = await new_tab(locale, width)
            await page.goto(path)
            token = headers["Authorization"].removeprefix("Bearer ")
            await page.evaluate("(token) => sessionStorage.setItem('autofin.token', token)", token)
            await page.reload()
            return page

        yield opener


@pytest.mark.parametrize(("locale", "width"), SETTINGS)
async def test_the_dealer_records_the_registration_of_a_funded_deal_on_the_desk(
    open_page: Callable[..., Any],
    paying_api: httpx.AsyncClient,
    admin_on_paying_server: dict[str, str],
    locale: str,
    width: int,
    tmp_path: Any,
) -> None:
    t = say(locale)
    approved, deal_id, _ = await handed_over(paying_api, admin_on_paying_server)
    page: Page = await open_page(locale, width, "/dealer", approved.dealer)
    desk = page.locator("#collateral")
    card = desk.locator(f"[data-deal-id='{deal_id}']")
    await expect(card).to_contain_text(t("collateral_status.awaiting"))
    deal = await paying_api.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)
    await expect(card).to_contain_text(deal.json()["vehicle"]["vin"])
    await assert_page_checks(page)

    certificate = tmp_path / "certificate.pdf"
    certificate.write_bytes(PDF)
    await card.get_by_label(t("collateral.registration_number")).fill("沪A-DY-2026-000123")
    await card.get_by_label(t("collateral.authority")).fill("上海市公安局交通警察总队车辆管理所")
    await card.get_by_label(t("collateral.registered_on")).fill(date.today().isoformat())
    await card.get_by_label(t("collateral.certificate")).set_input_files(str(certificate))
    await card.get_by_role("button", name=t("collateral.record")).click()
    await expect(card.locator(".collateral-status")).to_have_text(t("collateral_status.registered"))
    await expect(card).to_contain_text("沪A-DY-2026-000123")
    await assert_accessible(page)


@pytest.mark.parametrize(("locale", "width"), SETTINGS)
async def test_the_lender_console_shows_each_loans_collateral_and_the_overdue_ones(
    open_page: Callable[..., Any],
    paying_api: httpx.AsyncClient,
    admin_on_paying_server: dict[str, str],
    committed_database: Database,
    locale: str,
    width: int,
) -> None:
    t = say(locale)
    approved, _, loan_id = await handed_over(paying_api, admin_on_paying_server)
    async with committed_database.sessionmaker() as session, session.begin():
        await session.execute(
            update(LoanCollateral)
            .where(col(LoanCollateral.loan_id) == uuid.UUID(loan_id))
            .values(due_on=date.today() - timedelta(days=1))
        )
    async with committed_database.sessionmaker() as session, session.begin():
        await run_daily_jobs(session, as_of=date.today(), progress=lambda _: None)
    lender = await lender_staff(paying_api, approved.admin, loan_id, committed_database)

    page: Page = await open_page(locale, width, "/lender", lender)
    section = page.locator("#collateral")
    row = section.locator(f"tr[data-loan='{loan_id}']")
    await expect(row.locator(".collateral-badge")).to_have_text(t("collateral.overdue"))
    overdue = section.get_by_role("button", name=t("collateral.overdue_count", count=1))
    await overdue.click()
    await expect(section.locator("tbody tr")).to_have_count(1)
    # The consoles are checked as tests/pages/test_consoles.py checks them (their compact
    # buttons are the consoles' style): no sideways scrolling, no serious axe finding.
    await assert_fits_the_window(page)
    await assert_accessible(page)


async def lender_staff(
    api: httpx.AsyncClient, admin: dict[str, str], loan_id: str, database: Database
) -> dict[str, str]:
    """A staff login of the loan's lender."""
    async with database.sessionmaker() as session:
        lender_id = await session.scalar(
            select(col(LoanCollateral.lender_id)).where(
                col(LoanCollateral.loan_id) == uuid.UUID(loan_id)
            )
        )
    assert lender_id is not None
    return await staff_headers(api, admin, lender_id)
