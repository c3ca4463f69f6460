"""The mandate widget on the buyer's page, and the collection queue widget, in a real browser."""

from __future__ import annotations

from datetime import timedelta

import httpx
from playwright.async_api import Page, expect

from autofin.jobs import run_daily_jobs
from marketplace.collections import notices, repository
from marketplace.collections.models import NoticeKind
from marketplace.servicing.models import Loan, PaymentProfile
from shared.db import Database
from tests.servicing.conftest import Booked, book, days_ago, today


async def _signed_in(page: Page, headers: dict[str, str]) -> None:
    await page.goto("/buyer")
    token = headers["Authorization"].removeprefix("Bearer ")
    await page.evaluate("(token) => sessionStorage.setItem('autofin.token', token)", token)
    await page.reload()


async def test_the_buyer_authorises_automatic_debit_and_sees_the_reminders(
    page: Page, api: httpx.AsyncClient, committed_database: Database
) -> None:
    async with committed_database.sessionmaker() as session:
        booked: Booked = await book(api, session, loan_date=days_ago(40))
        loan = await session.get(Loan, booked.loan_id)
        assert loan is not None
        # The card the buyer saved earlier (POST /v1/buyer/payment-methods; Stripe not needed).
        session.add(
            PaymentProfile(
                buyer_id=loan.buyer_id,
                stripe_customer_id=f"cus_page{loan.id.hex[:8]}",
                payment_method_id="pm_page",
                card_brand="visa",
                card_last4="4242",
            )
        )
        await session.commit()
        late = notices._notice(
            f"late:{loan.id}:1",
            NoticeKind.late,
            loan.id,
            loan.buyer_id,
            "zh_CN",
            n=1,
            amount_fen=880_000,
            due_date=today() - timedelta(days=10),
        )
        await repository.record_notices(session, [late])
        await session.commit()

    await _signed_in(page, booked.buyer)
    widget = page.locator("#autofin-mandate")
    await expect(widget).to_contain_text("未开通自动扣款")
    await expect(widget.locator(".mandate-text")).to_contain_text("尾号4242的VISA卡")
    await expect(widget.locator(".reminders")).to_contain_text("已逾期")
    authorise = widget.get_by_role("button", name="开通自动扣款")
    await expect(authorise).to_be_disabled()
    await widget.get_by_label("我已阅读并同意上述授权书").check()
    await authorise.click()
    await expect(widget.locator(".mandate-status")).to_contain_text("已开通")
    await expect(widget.get_by_role("heading", name="您同意的授权书")).to_be_visible()
    await widget.get_by_role("button", name="撤销授权").click()
    await expect(widget.locator(".mandate-status")).to_contain_text("未开通")


async def test_the_lender_records_a_promise_in_the_collection_queue(
    page: Page, api: httpx.AsyncClient, committed_database: Database
) -> None:
    async with committed_database.sessionmaker() as session:
        booked = await book(api, session, loan_date=days_ago(75))
        async with session.begin():
            await run_daily_jobs(session, as_of=today(), progress=lambda _: None)

    # The lender's console is another page; the widget mounts on any page with app.js.
    await page.goto("/buyer")
    await page.add_script_tag(url="/collections.js")
    await page.evaluate(
        "(token) => { sessionStorage.setItem('autofin.token', token);"
        " const box = document.createElement('section'); box.id = 'queue';"
        " document.querySelector('main').append(box);"
        " return AutofinCollections.mount(box); }",
        booked.lender["Authorization"].removeprefix("Bearer "),
    )
    queue = page.locator("#queue")
    await expect(queue.locator("[data-bucket='31-60']")).to_contain_text("1笔")
    await queue.locator("tbody tr").first.click()
    history = queue.locator(".collection-history")
    await expect(history).to_contain_text("逾期提醒")
    await history.get_by_label("承诺金额（元）").fill("1200")
    await history.get_by_label("承诺日期").fill(str(today() + timedelta(days=3)))
    await history.get_by_role("button", name="记录承诺还款").click()
    await expect(history).to_contain_text("承诺于")
