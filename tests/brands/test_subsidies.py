"""A manufacturer's subsidy follows the canonical brand: 比亚迪 and BYD are one brand, and a BMW
never gets BYD's money."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    Headers,
    admin_headers,
    apply,
    buyer_headers,
    create_organization,
    create_product,
    staff_headers,
)

SUBSIDISED_RATE = "0.0199"


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> Headers:
    return await admin_headers(client, session)


async def approval_with_a_subsidised_product(
    client: httpx.AsyncClient, admin: Headers, subsidy_brand: str
) -> tuple[Headers, dict[str, Any]]:
    lender = await create_organization(client, admin, "lender")
    lender_headers = await staff_headers(client, admin, lender["id"])
    await create_product(
        client,
        lender_headers,
        name="比亚迪厂商贴息",
        subsidy={"brands": [subsidy_brand], "annual_rate": SUBSIDISED_RATE},
    )
    await create_product(client, lender_headers, name="Standard auto loan")
    buyer = await buyer_headers(client)
    response = await apply(client, buyer)
    assert response.json()["decision"] == "approved", response.text
    return buyer, response.json()["preapproval"]


async def quote(
    client: httpx.AsyncClient, buyer: Headers, preapproval: dict[str, Any], brand: str
) -> httpx.Response:
    return await client.post(
        f"/v1/buyer/preapprovals/{preapproval['id']}/quotes",
        json={
            "car_price": 20_000_000,  # ¥200,000
            "down_payment": 5_000_000,  # ¥150,000 financed
            "term_months": 36,
            "vehicle_type": "new",
            "brand": brand,
        },
        headers=buyer,
    )


@pytest.mark.parametrize(
    ("subsidy_brand", "quoted_brand"),
    [("比亚迪", "BYD"), ("BYD", "比亚迪"), ("byd", "比亚迪汽车")],
)
async def test_the_subsidy_applies_whichever_name_of_the_brand_each_side_used(
    client: httpx.AsyncClient, admin: Headers, subsidy_brand: str, quoted_brand: str
) -> None:
    buyer, preapproval = await approval_with_a_subsidised_product(client, admin, subsidy_brand)
    response = await quote(client, buyer, preapproval, quoted_brand)
    assert response.status_code == 200, response.text
    best = response.json()["offers"][0]
    assert best["product"] == "比亚迪厂商贴息" and best["rank"] == 1
    assert best["annual_rate"] == SUBSIDISED_RATE and best["subsidised"] is True
    assert best["amount"] == 15_000_000


async def test_a_bmw_never_gets_a_byd_product_subsidised_or_not(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    buyer, preapproval = await approval_with_a_subsidised_product(client, admin, "比亚迪")
    response = await quote(client, buyer, preapproval, "宝马")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [offer["product"] for offer in body["offers"]] == ["Standard auto loan"]
    assert not any(offer["subsidised"] for offer in body["offers"])
    (refused,) = body["not_offered"]
    assert refused["product"] == "比亚迪厂商贴息" and refused["code"] == "brand_not_covered"
    assert refused["message"] == "比亚迪厂商贴息仅为比亚迪品牌的车辆提供贷款。"
    english = await client.post(
        f"/v1/buyer/preapprovals/{preapproval['id']}/quotes",
        json={
            "car_price": 20_000_000,
            "down_payment": 5_000_000,
            "term_months": 36,
            "brand": "BMW",
        },
        headers={**buyer, "Accept-Language": "en"},
    )
    (refused,) = english.json()["not_offered"]
    assert refused["message"] == "比亚迪厂商贴息 finances only cars of BYD"


async def test_a_brand_nobody_sells_is_refused_rather_than_quoted_without_subsidy(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    buyer, preapproval = await approval_with_a_subsidised_product(client, admin, "BYD")
    response = await quote(client, buyer, preapproval, "BYDD")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unknown_brand" and error["field"] == "brand"
    assert error["suggestion"]["id"] == "byd"


async def test_a_subsidy_for_an_unknown_brand_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    lender = await create_organization(client, admin, "lender")
    lender_headers = await staff_headers(client, admin, lender["id"])
    response = await client.post(
        "/v1/lender/products",
        json={
            "name": "x",
            "method": "equal_installment",
            "terms_months": [36],
            "min_amount": 2_000_000,
            "max_amount": 50_000_000,
            "max_ltv": "0.8",
            "min_down_payment_ratio": "0.2",
            "upfront_fee": 0,
            "rate_card": {"A1": "0.05"},
            "vehicle_types": ["new"],
            "platform_guarantee": False,
            "subsidy": {"brands": ["BYD", "Nonexistent Motors"], "annual_rate": "0.01"},
        },
        headers=lender_headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_brand"
    assert response.json()["error"]["field"] == "subsidy.brands.1"
