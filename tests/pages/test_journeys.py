"""The buyer's and the dealer's whole journeys, through the browser only (Stripe.js included:
the emulator's stand-in), in Chinese on a phone and in English on a laptop screen.

The buyer registers with a texted code, applies, sees the approval with its code, what the
dealer will ask for and its QR code, and tries a car; the dealer looks the approval up, decodes
the VIN, quotes, checks the ID and confirms; the buyer pays the down payment on the page the
dealer's QR code opens; the dealer's screen turns to "handed over" by itself when Stripe's
webhook arrives; the buyer then sees the loan and its schedule, saves a card, pays two
instalments, asks for the payoff and writes to the advisor. Every page along the way is checked
for accessibility (axe-core), sideways scrolling and tap-target sizes at the test's width.

With AUTOFIN_SCREENSHOTS=<dir> the steps are saved as screenshots (docs/screenshots/ holds them).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.factories import (
    PASSWORD,
    create_organization,
    fresh_phone,
    lender_with_product,
    national_id,
    unique_email,
)
from tests.pages.a11y import assert_page_checks

VIN = "LBV5S1106MS000001"  # BMW Brilliance (华晨宝马), check digit verified
SHOTS = os.environ.get("AUTOFIN_SCREENSHOTS")


@dataclass(frozen=True)
class Words:
    """What the pages say, in the journey's language."""

    approved: str
    dealer_asks: str
    apr: str
    make: str
    paid: str
    handed_over: str
    handed_over_status: str
    used: str
    consumed: str
    instalment_paid: str
    payment_done: str


CHINESE = Words(
    approved="已批准",
    dealer_asks="手机号的后四位",
    apr="年化利率（APR）",
    make="宝马",
    paid="首付已支付",
    handed_over="已交车",
    handed_over_status="已交车",
    used="已用于购车",
    consumed="已用于购车",
    instalment_paid="已还",
    payment_done="已支付",
)
ENGLISH = Words(
    approved="Approved",
    dealer_asks="last four digits of your phone",
    apr="APR (annualised)",
    make="BMW",
    paid="Down payment paid",
    handed_over="handed over",
    handed_over_status="Handed over",
    used="has been used for a car",
    consumed="Used for a car",
    instalment_paid="Paid",
    payment_done="Paid ",
)


async def shot(page: Page, name: str) -> None:
    if SHOTS:
        await page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


async def fill_card(page: Page, container: str) -> None:
    """Type a test card into the card element Stripe.js mounted (the stand-in's fields)."""
    fields = page.locator(f"{container} input")
    await expect(fields).to_have_count(5)
    for placeholder, value in (
        ("number", "4242424242424242"),
        ("exp_month", "12"),
        ("exp_year", "30"),
        ("cvc", "123"),
        ("postal_code", "20001"),
    ):
        await page.locator(f"{container} input[placeholder={placeholder}]").fill(value)


async def new_tab(browser: Browser, base_url: str, locale: str, width: int) -> BrowserContext:
    height = 844 if width < 600 else 900
    return await browser.new_context(
        base_url=base_url, locale=locale, viewport={"width": width, "height": height}
    )


@pytest.mark.parametrize(
    ("locale", "width", "words"),
    [("zh-CN", 390, CHINESE), ("en-US", 1366, ENGLISH)],
    ids=["zh-CN-390px", "en-1366px"],
)
async def test_the_buyer_and_the_dealer_go_from_registration_to_a_paid_instalment(
    browser: Browser,
    paying_server: str,
    paying_api: httpx.AsyncClient,
    admin_on_paying_server: dict[str, str],
    locale: str,
    width: int,
    words: Words,
) -> None:
    api, admin = paying_api, admin_on_paying_server
    tag = f"{locale[:2]}-{width}"
    await lender_with_product(api, admin, name="安心车贷")
    advisor = {"email": unique_email("advisor"), "password": PASSWORD, "full_name": "李顾问"}
    assert (await api.post("/v1/admin/advisors", json=advisor, headers=admin)).status_code == 201
    dealer_org = await create_organization(api, admin, "dealer", name="上海浦东宝马4S店")
    dealer_email = unique_email("dealer")
    member = {"email": dealer_email, "password": PASSWORD, "full_name": "销售", "role": "staff"}
    created = await api.post(
        f"/v1/admin/organizations/{dealer_org['id']}/members", json=member, headers=admin
    )
    assert created.status_code == 201, created.text
    phone = fresh_phone()

    buyer_context = await new_tab(browser, paying_server, locale, width)
    dealer_context = await new_tab(browser, paying_server, locale, width)
    try:
        # -- the buyer registers with a texted code and applies ----------------------------
        buyer = await buyer_context.new_page()
        await buyer.goto("/buyer")
        register = buyer.locator("#register-form")
        await register.locator("[name=full_name]").fill("王芳")
        await register.locator("[name=phone]").fill(phone)
        await register.locator(".send-code").click()
        await expect(buyer.locator("#dev-sms")).to_be_visible()
        code = re.search(r"(\d{6})", await buyer.locator("#dev-sms").text_content() or "")
        assert code
        await register.locator("[name=sms_code]").fill(code.group(1))
        await register.locator("[name=email]").fill(unique_email("buyer"))
        await register.locator("[name=password]").fill(PASSWORD)
        await register.locator("button[type=submit]").click()

        apply = buyer.locator("#apply-form")
        await expect(apply).to_be_visible()
        await expect(buyer.locator("#apply-heading")).to_be_focused()
        await apply.locator("[name=national_id]").fill(national_id(34))
        await apply.locator("[name=age]").fill("34")
        await apply.locator("[name=monthly_income]").fill("30000")
        await apply.locator("[name=employment_months]").fill("72")
        await apply.locator("[name=housing]").select_option("mortgage")
        await apply.locator("[name=consent]").check()
        await apply.locator("[name=share]").check()
        await apply.locator("button[type=submit]").click()

        await expect(buyer.locator("#decision-facts")).to_contain_text(words.approved)
        approval_code = (await buyer.locator("#decision-facts .code").text_content() or "").strip()
        assert len(approval_code) == 8
        await expect(buyer.locator("#dealer-asks")).to_contain_text(approval_code)
        await expect(buyer.locator("#dealer-asks")).to_contain_text(words.dealer_asks)
        await expect(buyer.locator("#approval-qr")).to_have_attribute(
            "src", re.compile(r"^data:image/svg\+xml")
        )
        await expect(buyer.locator("#offers th").first).to_have_text(words.apr)

        # Any car: price, term and method.
        quote = buyer.locator("#quote-form")
        await quote.locator("[name=car_price]").fill("250000")
        await quote.locator("[name=down_payment]").fill("0")
        await quote.locator("button[type=submit]").click()
        # Zero down is explained, never an empty table.
        await expect(buyer.locator("#quote-offers .callout")).to_be_visible()
        await quote.locator("[name=down_payment]").fill("75000")
        await quote.locator("[name=term_months]").select_option("48")
        await quote.locator("[name=method]").select_option("equal_installment")
        await quote.locator("button[type=submit]").click()
        await expect(buyer.locator("#quote-offers tbody tr")).to_have_count(1)
        await expect(buyer.locator("#quote-offers tbody tr")).to_contain_text("安心车贷")
        await assert_page_checks(buyer)
        await shot(buyer, f"{tag}-buyer-1-approval")

        # -- the dealer looks it up, decodes the VIN, quotes and confirms --------------------
        dealer = await dealer_context.new_page()
        await dealer.goto("/dealer")
        await dealer.locator("#login-form [name=email]").fill(dealer_email)
        await dealer.locator("#login-form [name=password]").fill(PASSWORD)
        await dealer.locator("#login-form button[type=submit]").click()
        lookup = dealer.locator("#lookup-form")
        await lookup.locator("[name=code]").fill(approval_code.lower())
        await lookup.locator("[name=verifier]").fill(phone[-4:])
        await lookup.locator("button[type=submit]").click()
        await expect(dealer.locator("#approval")).to_contain_text("王*")

        deal = dealer.locator("#deal-form")
        await deal.locator("[name=vin]").fill(VIN)
        await deal.locator("[name=vin]").press("Tab")
        await expect(deal.locator("[name=make]")).to_have_value(words.make)
        await expect(dealer.locator("#vin-note")).to_contain_text("BMW Brilliance")
        await deal.locator("[name=model]").fill("325Li")
        await deal.locator("[name=price]").fill("300000")
        await deal.locator("[name=down_payment]").fill("120000")
        await deal.locator("button[type=submit]").click()
        await expect(dealer.locator("#quote")).to_contain_text("王*")
        await expect(dealer.locator("#identity-prompt")).to_contain_text("王*")
        await assert_page_checks(dealer)
        await shot(dealer, f"{tag}-dealer-1-quote")

        confirm = dealer.locator("#confirm-form")
        await confirm.locator("[name=identity_verified]").check()
        await confirm.locator("button[type=submit]").click()
        await expect(dealer.locator("#payment-qr")).to_have_attribute(
            "src", re.compile(r"^data:image/svg\+xml")
        )
        # The look-up panel no longer says the approval is active.
        await expect(dealer.locator("#approval")).to_contain_text(words.consumed)
        payment_url = await dealer.locator("#payment-url").get_attribute("href")
        assert payment_url and "/pay#pi_" in payment_url
        await assert_page_checks(dealer)
        await shot(dealer, f"{tag}-dealer-2-payment-qr")

        # -- the buyer's phone opens the dealer's QR code and pays with Stripe.js ------------
        pay = await buyer_context.new_page()
        await pay.goto(payment_url)
        await expect(pay.locator("#pay-facts")).to_contain_text("王*")
        await fill_card(pay, "#card-element")
        await assert_page_checks(pay)
        await shot(pay, f"{tag}-buyer-2-pay-down-payment")
        await pay.locator("#pay-button").click()
        await expect(pay.locator("#pay-state")).to_contain_text(words.paid)

        # -- the dealer's screen updates by itself when the webhook hands the car over -------
        await expect(dealer.locator("#payment-state")).to_contain_text(
            words.handed_over, timeout=20_000
        )
        await expect(dealer.locator("#deals tbody tr").first).to_contain_text(
            words.handed_over_status, timeout=10_000
        )
        await expect(dealer.locator("#payment-qr")).to_be_hidden()
        await shot(dealer, f"{tag}-dealer-3-handed-over")

        # -- the buyer's loan: schedule, a saved card, two instalments, payoff, the advisor ---
        # Back on the buyer's page later: logged out, then in again with a texted code.
        await buyer.locator("#logout").click()
        phone_form = buyer.locator("#phone-login-form")
        await phone_form.locator("[name=phone]").fill(phone)
        await phone_form.locator(".send-code").click()
        await expect(phone_form.locator(".dev-sms")).to_be_visible()
        texted = await phone_form.locator(".dev-sms").text_content() or ""
        login_code = re.search(r"(\d{6})", texted)
        assert login_code
        await phone_form.locator("[name=sms_code]").fill(login_code.group(1))
        await phone_form.locator("button[type=submit]").click()
        await expect(buyer.locator("#loans")).to_be_visible()
        await expect(buyer.locator("#loans-heading")).to_be_focused()
        await expect(buyer.locator("#schedule tbody tr")).to_have_count(36)
        await expect(buyer.locator("#offers")).to_contain_text(words.used)
        await expect(buyer.locator("#quote")).to_be_hidden()
        await buyer.locator("#add-card").click()
        await fill_card(buyer, "#card-element")
        await buyer.locator("#card-form button[type=submit]").click()
        await expect(buyer.locator("#saved-card")).to_contain_text("4242")
        await expect(buyer.locator("#pay-button")).to_be_enabled()
        await buyer.locator("#installments").select_option("2")
        await buyer.locator("#pay-button").click()
        await expect(buyer.locator("#pay-status")).to_contain_text(words.payment_done)
        rows = buyer.locator("#schedule tbody tr")
        await expect(rows.nth(0)).to_have_class(re.compile(r"\bpaid\b"))
        await expect(rows.nth(1)).to_contain_text(words.instalment_paid)
        await expect(rows.nth(2)).not_to_have_class(re.compile(r"\bpaid\b"))
        await buyer.locator("#payoff-quote").click()
        await expect(buyer.locator("#payoff-facts dd").first).to_contain_text("¥")
        await buyer.locator("#message-form [name=body]").fill("请问可以提前还款吗？")
        await buyer.locator("#message-form button[type=submit]").click()
        await expect(buyer.locator("#message-list")).to_contain_text("请问可以提前还款吗？")
        await assert_page_checks(buyer)
        await shot(buyer, f"{tag}-buyer-3-loan")

        # What the page showed is what was booked.
        token = await buyer.evaluate("sessionStorage.getItem('autofin.token')")
        headers = {"Authorization": f"Bearer {token}"}
        loans = (await api.get("/v1/buyer/loans", headers=headers)).json()["items"]
        loan = (await api.get(f"/v1/buyer/loans/{loans[0]['id']}", headers=headers)).json()
        assert [row["n"] for row in loan["schedule"] if row["status"] == "paid"] == [1, 2]
    finally:
        await buyer_context.close()
        await dealer_context.close()
