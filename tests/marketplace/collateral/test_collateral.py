"""A loan's collateral record: opened when the loan becomes active (at handover or when the
lender funds it), due the product's ``collateral_days`` later, read by its lender only, and
closed at payoff when the car was never registered."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.collateral.service import release_texts
from marketplace.servicing import funding as servicing_funding
from marketplace.servicing import service as servicing_service
from shared.db import utcnow
from shared.identity.principal import Principal
from tests.factories import Headers, create_product, error_fields
from tests.servicing.conftest import BookLoan, pay, save_card
from tests.stripe_fixtures import LocalStripe


async def collateral(
    client: httpx.AsyncClient, lender: Headers, loan_id: uuid.UUID
) -> httpx.Response:
    return await client.get(f"/v1/lender/loans/{loan_id}/collateral", headers=lender)


async def test_products_carry_collateral_days_sixty_unless_the_lender_sets_them(
    client: httpx.AsyncClient, book_loan: BookLoan
) -> None:
    booked = await book_loan()
    default = await create_product(client, booked.lender)
    assert default["collateral_days"] == 60
    short = await create_product(client, booked.lender, collateral_days=21)
    assert short["collateral_days"] == 21
    for days in (0, 366, "30"):
        refused = await client.post(
            "/v1/lender/products",
            json={
                **{k: v for k, v in default.items() if k in _PRODUCT_FIELDS},
                "collateral_days": days,
            },
            headers=booked.lender,
        )
        assert refused.status_code == 422 and "collateral_days" in error_fields(refused)
    edited = await client.patch(
        f"/v1/lender/products/{short['id']}", json={"collateral_days": 90}, headers=booked.lender
    )
    assert edited.status_code == 200 and edited.json()["collateral_days"] == 90


_PRODUCT_FIELDS = {
    "name", "method", "terms_months", "min_amount", "max_amount", "max_ltv",
    "min_down_payment_ratio", "upfront_fee", "rate_card", "vehicle_types", "platform_guarantee",
}  # fmt: skip


async def test_a_loan_funded_at_handover_owes_its_registration_within_collateral_days(
    client: httpx.AsyncClient, session: AsyncSession, book_loan: BookLoan
) -> None:
    booked = await book_loan(collateral_days=30)
    seen = await collateral(client, booked.lender, booked.loan_id)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["status"] == "awaiting" and body["overdue"] is False
    assert body["funded_on"] == date.today().isoformat()
    assert body["due_on"] == (date.today() + timedelta(days=30)).isoformat()
    assert body["lender_id"] == str(booked.lender_id)
    listed = await client.get("/v1/lender/collateral?status=awaiting", headers=booked.lender)
    assert [item["loan_id"] for item in listed.json()["items"]] == [str(booked.loan_id)]
    none_overdue = await client.get("/v1/lender/collateral?overdue=true", headers=booked.lender)
    assert none_overdue.json()["total"] == 0
    # Activating again (a retried handover) opens nothing more.
    actor = Principal(role="dealer", user_id=uuid.uuid4(), organization_id=uuid.uuid4())
    assert await servicing_service.activate_at_handover(session, actor, booked.loan_id) is None
    assert (await client.get("/v1/lender/collateral", headers=booked.lender)).json()["total"] == 1


async def test_a_loan_the_lender_funds_owes_it_from_the_funding(
    client: httpx.AsyncClient, session: AsyncSession, book_loan: BookLoan
) -> None:
    booked = await book_loan(activate=False, auto_fund=False)
    before = await collateral(client, booked.lender, booked.loan_id)
    assert before.status_code == 404 and before.json()["error"]["code"] == "collateral_not_found"
    lender = Principal(role="lender", user_id=uuid.uuid4(), organization_id=booked.lender_id)
    await servicing_funding.mark_funded(session, lender, booked.loan_id, utcnow())
    await session.commit()
    after = await collateral(client, booked.lender, booked.loan_id)
    assert after.status_code == 200 and after.json()["status"] == "awaiting"


async def test_another_lenders_loan_collateral_is_404(
    client: httpx.AsyncClient, book_loan: BookLoan
) -> None:
    mine = await book_loan()
    theirs = await book_loan()
    refused = await collateral(client, mine.lender, theirs.loan_id)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "loan_not_found"
    listed = (await client.get("/v1/lender/collateral", headers=mine.lender)).json()
    assert [item["loan_id"] for item in listed["items"]] == [str(mine.loan_id)]


async def test_a_loan_paid_off_before_registration_no_longer_needs_it(
    client: httpx.AsyncClient, book_loan: BookLoan, localstripe: LocalStripe
) -> None:
    booked = await book_loan()
    await save_card(client, booked.buyer, localstripe)
    paid = await pay(client, booked.buyer, booked.loan_id, {"payoff": True})
    assert paid.status_code == 201, paid.text
    body = (await collateral(client, booked.lender, booked.loan_id)).json()
    assert body["status"] == "not_required" and body["release_instructions"] is None


def test_the_release_instructions_name_the_lender_the_car_and_the_registration() -> None:
    texts = release_texts(
        lender="平安银行",
        vin="LSVAM4187C2184847",
        registration_number="沪A-000123",
        authority="上海市车辆管理所",
        paid_off_on=date(2027, 3, 15),
    )
    for text in texts.values():
        assert "平安银行" in text and "LSVAM4187C2184847" in text and "沪A-000123" in text
    assert "2027年3月15日" in texts["zh"] and "解除抵押" in texts["zh"]
    assert "2027" in texts["en"] and "release" in texts["en"]
