"""A buyer reads the loan contract of a manual-decision product in the browser and signs it with
a one-time code; the signature covers exactly the bytes the page showed."""

from __future__ import annotations

import hashlib
import re

import httpx
from playwright.async_api import Page, expect

from tests.factories import (
    PASSWORD,
    apply,
    create_organization,
    fresh_phone,
    lender_with_product,
    login,
    register_body,
    sms_code,
    staff_headers,
)
from tests.stripe_fixtures import LocalStripe


async def test_a_buyer_reviews_and_signs_the_contract_on_the_page(
    stripe_settings: LocalStripe, page: Page, api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, _, product = await lender_with_product(
        api, admin, auto_fund=False, auto_approve={"max_amount": 20_000_000}
    )
    phone = fresh_phone()
    body = register_body(phone, await sms_code(api, phone))
    assert (await api.post("/v1/auth/register", json=body)).status_code == 201
    buyer = await login(api, str(body["email"]))
    preapproval = (await apply(api, buyer)).json()["preapproval"]
    offer = next(o for o in preapproval["offers"] if o["product_id"] == product["id"])
    dealer_org = await create_organization(api, admin, "dealer")
    dealer = await staff_headers(api, admin, dealer_org["id"])
    quoted = await api.post(
        "/v1/dealer/deals",
        json={
            "code": preapproval["code"],
            "verifier": phone[-4:],
            "vehicle": {
                "vin": "LSVAM4187C2184847",
                "make": "Volkswagen",
                "model": "Passat",
                "vehicle_type": "new",
                "price": 15_000_000,
            },
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
        headers={**dealer, "Idempotency-Key": f"page-{deal_id}"},
    )
    assert confirmed.status_code == 200, confirmed.text
    loan_id = confirmed.json()["loan_id"]

    await page.goto("/buyer")
    await page.get_by_text("用邮箱和密码登录").click()  # the phone-code login comes first
    form = page.locator("#login-form")
    await form.get_by_label("邮箱").fill(str(body["email"]))
    await form.get_by_label("密码").fill(PASSWORD)
    await form.get_by_role("button", name="登录").click()

    desk = page.locator("#autofin-contract")
    await expect(desk).to_be_visible(timeout=10_000)
    await expect(desk.locator(".decision-status")).to_have_text("已批准")
    await desk.get_by_role("button", name="查看合同").click()
    await expect(desk.locator(".contract-sha")).to_have_text(
        re.compile(r"^[0-9a-f]{64}$"), timeout=20_000
    )
    shown = await desk.locator(".contract-sha").text_content()
    pdf = await api.get(f"/v1/buyer/loans/{loan_id}/contract", headers=buyer)
    assert shown == hashlib.sha256(pdf.content).hexdigest()

    await desk.get_by_label("手机号").fill(phone)
    await desk.get_by_role("button", name="发送签署验证码").click()
    await expect(desk.get_by_role("button", name="验证码已发送")).to_be_visible()
    inbox = (await api.post("/v1/dev/sms", json={"phone": phone})).json()
    code = next(m["code"] for m in inbox if m["purpose"] == "sign")
    await desk.get_by_label("验证码", exact=True).fill(code)
    await desk.get_by_role("button", name="签署合同").click()
    await expect(desk.locator(".contract-sign")).to_have_count(0)

    deal = (await api.get(f"/v1/dealer/deals/{deal_id}", headers=dealer)).json()
    assert deal["decision"]["contract_sha256"] == shown
    assert deal["decision"]["handover_waits_for"] == ["down_payment"]
