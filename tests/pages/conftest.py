"""A live server of the app on 127.0.0.1 and a headless Chromium (Debian's) driven by Playwright.

Without /usr/bin/chromium the page tests are skipped, unless AUTOFIN_REQUIRE_BROWSER is set
(CI sets it, and installs chromium), in which case they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from autofin.main import create_app
from shared.db import Database
from shared.identity.service import create_or_reset_admin
from tests.factories import PASSWORD, login, unique_email
from tests.servers import serving
from tests.stripe_fixtures import LocalStripe

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def live_server(committed_database: Database) -> AsyncIterator[str]:
    """The app served over real HTTP on 127.0.0.1, on a database of this test's own."""
    async with serving(create_app(committed_database)) as url:
        yield url


@pytest.fixture
async def api(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server) as client:
        yield client


@pytest.fixture
async def admin(api: httpx.AsyncClient, committed_database: Database) -> dict[str, str]:
    email = unique_email("admin")
    async with committed_database.sessionmaker() as session, session.begin():
        await create_or_reset_admin(session, email=email, password=PASSWORD)
    return await login(api, email)


def chromium_installed() -> bool:
    return CHROMIUM.exists()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not chromium_installed():
        if os.environ.get("AUTOFIN_REQUIRE_BROWSER"):
            pytest.fail("AUTOFIN_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


NewTab = Callable[[str, int], Awaitable[Page]]


@asynccontextmanager
async def tabs(browser: Browser, base_url: str) -> AsyncIterator[NewTab]:
    """Open tabs on ``base_url`` in a given locale and window width, each in a browser context
    of its own (so sessions never mix); every context is closed at the end."""
    contexts = []

    async def new_tab(locale: str, width: int) -> Page:
        context = await browser.new_context(
            base_url=base_url, locale=locale, viewport={"width": width, "height": 900}
        )
        contexts.append(context)
        return await context.new_page()

    yield new_tab
    for context in contexts:
        await context.close()


@pytest.fixture
async def page(browser: Browser, live_server: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=live_server, locale="zh-CN")
    tab = await context.new_page()
    yield tab
    await context.close()


@pytest.fixture
async def paying_server(
    stripe_settings: LocalStripe, committed_database: Database
) -> AsyncIterator[str]:
    """The app on a database of its own, paying through the Stripe emulator, which delivers
    its payment webhooks to it (as Stripe would) for the test's duration."""
    async with serving(create_app(committed_database)) as url:
        hook = f"pages-{uuid.uuid4().hex[:8]}"
        events = ["payment_intent.succeeded", "payment_intent.payment_failed"]
        await stripe_settings.register_webhook(hook, f"{url}/v1/stripe/webhook", events)
        try:
            yield url
        finally:
            await stripe_settings.register_webhook(hook, f"{url}/v1/stripe/webhook", events=[])


@pytest.fixture
async def paying_api(paying_server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=paying_server) as client:
        yield client


@pytest.fixture
async def admin_on_paying_server(
    paying_api: httpx.AsyncClient, committed_database: Database
) -> dict[str, str]:
    email = unique_email("admin")
    async with committed_database.sessionmaker() as session, session.begin():
        await create_or_reset_admin(session, email=email, password=PASSWORD)
    return await login(paying_api, email)
