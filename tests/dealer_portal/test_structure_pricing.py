"""Quotes re-price by the car's structure: the pre-approval graded the worst structure the
policy allows, a real car earns its own grade, never worse, and the loan books the rate the
quote showed."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal.models import DealerDeal
from marketplace.applications.models import Application
from marketplace.preapprovals.models import Preapproval
from marketplace.servicing.models import Loan
from pricing.grades import grade_rank
from tests.dealer_portal.conftest import approved_buyer, confirm, deal_body


async def test_the_preapproval_is_graded_on_the_worst_structure_the_policy_allows(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    preapproval = await session.get(Preapproval, uuid.UUID(approved.preapproval["id"]))
    assert preapproval is not None
    application = await session.get(Application, preapproval.application_id)
    assert application is not None and application.structure_assumed is not None
    assumed = application.structure_assumed
    assert Decimal(assumed["ltv"]) == 1  # all of the price financed
    assert assumed["term_months"] == (84 if assumed["vehicle_type"] == "new" else 36)


async def test_a_better_structure_never_earns_a_worse_grade_or_a_higher_rate(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    preapproval_grade = approved.preapproval["grade"]
    locked = {
        offer["offer_id"]: Decimal(offer["annual_rate"]) for offer in approved.preapproval["offers"]
    }
    grades: dict[tuple[str, int], str] = {}
    for vehicle_type in ("new", "used"):
        for term in (12, 24, 36, 48, 60):
            if vehicle_type == "used" and term > 36:
                continue
            response = await client.post(
                f"/v1/buyer/preapprovals/{approved.preapproval['id']}/quotes",
                json={
                    "car_price": 15_000_000,
                    "down_payment": 4_000_000,
                    "term_months": term,
                    "vehicle_type": vehicle_type,
                },  # fmt: skip
                headers=approved.buyer,
            )
            assert response.status_code == 200, response.text
            quote: dict[str, Any] = response.json()
            car = quote["grade"]
            assert car["preapproval_grade"] == preapproval_grade
            assert grade_rank(car["grade"]) <= grade_rank(preapproval_grade)
            for offer in quote["offers"]:
                assert Decimal(offer["annual_rate"]) <= locked[offer["offer_id"]]
            grades[(vehicle_type, term)] = car["grade"]
    # The built-in card prices the term: a shorter loan never grades worse than a longer one.
    new_terms = [grades[("new", term)] for term in (12, 24, 36, 48, 60)]
    assert [grade_rank(g) for g in new_terms] == sorted(grade_rank(g) for g in new_terms)
    if preapproval_grade != "A1":  # (a clean enough file is A1 whatever the car)
        assert grade_rank(grades[("new", 12)]) < grade_rank(preapproval_grade)


async def test_the_loan_books_the_rate_the_quote_showed(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    response = await client.post(
        "/v1/dealer/deals", json=deal_body(approved, term_months=24), headers=approved.dealer
    )
    assert response.status_code == 201, response.text
    deal = response.json()
    quote = deal["quote"]
    assert quote["car_grade"]["summary"].startswith(f"this car: {quote['grade']};")
    confirmed = await confirm(client, approved.dealer, deal["id"])
    assert confirmed.status_code == 200, confirmed.text
    loan = await session.get(Loan, uuid.UUID(confirmed.json()["loan_id"]))
    stored = await session.get(DealerDeal, uuid.UUID(deal["id"]))
    assert loan is not None and stored is not None
    assert loan.annual_rate == Decimal(quote["annual_rate"]) and loan.grade == quote["grade"]
    assert stored.preapproval_grade == approved.preapproval["grade"]
    assert loan.pd is not None and loan.pd == Decimal(quote["car_grade"]["pd"])
