"""Matching products to an applicant: which rule each product fails, or the offer it makes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricing.fair_price import benchmark_rate
from pricing.matching import evaluate_product, match_offers, reference_term
from pricing.offers import Rejection
from pricing.policy import DEFAULT_POLICY
from pricing.products import Subsidy, VehicleType
from shared.money import yuan
from tests.pricing.catalogue import LIMIT, deal, offer_of, product, rejection_of


def test_without_a_car_a_product_is_quoted_for_the_limit_at_the_term_nearest_36_months() -> None:
    offer = offer_of(evaluate_product(product(terms_months=(24, 48)), "B2", LIMIT, DEFAULT_POLICY))
    assert (offer.amount, offer.term_months) == (LIMIT, 24)  # 24 and 48 tie: shorter wins
    capped = product(max_amount=yuan(50_000))
    small = offer_of(evaluate_product(capped, "B2", LIMIT, DEFAULT_POLICY))
    assert small.amount == yuan(50_000)
    assert reference_term((12, 60, 40), 36) == 40


def test_without_a_car_a_product_whose_minimum_exceeds_the_limit_is_not_eligible() -> None:
    outcome = evaluate_product(product(min_amount=yuan(200_000)), "B2", LIMIT, DEFAULT_POLICY)
    assert rejection_of(outcome).code == "credit_limit_below_product_minimum"


@pytest.mark.parametrize(
    ("product_changes", "deal_changes", "code", "field"),
    [
        ({"rate_card": {"A1": Decimal("0.05")}}, {}, "grade_not_accepted", None),
        ({"vehicle_types": frozenset({VehicleType.NEW})}, {"vehicle_type": VehicleType.USED},
         "vehicle_type_not_accepted", "vehicle_type"),
        ({}, {"term_months": 18}, "term_not_offered", "term_months"),
        ({}, {"vehicle_type": VehicleType.USED, "term_months": 48},
         "used_car_term_too_long", "term_months"),
        ({"min_amount": yuan(110_000)}, {}, "amount_below_product_minimum", "down_payment"),
        ({"max_amount": yuan(100_000)}, {}, "amount_above_product_maximum", "down_payment"),
        ({}, {"car_price": yuan(250_000), "down_payment": yuan(90_000)},
         "amount_above_credit_limit", "down_payment"),
        ({"max_ltv": Decimal("0.60"), "min_down_payment_ratio": Decimal(0)}, {},
         "ltv_too_high", "down_payment"),
        ({"min_down_payment_ratio": Decimal("0.40"), "max_ltv": Decimal(1)}, {},
         "down_payment_too_low", "down_payment"),
        ({"capacity_remaining": yuan(50_000)}, {}, "lender_capacity_exhausted", None),
        ({"rate_card": {"B2": Decimal("0.12")}}, {}, "rate_above_fair_band", None),
        ({"rate_card": {"B2": Decimal("0.0541")}, "upfront_fee": yuan(60_000)}, {},
         "apr_above_legal_cap", None),
    ],
)  # fmt: skip
def test_each_deal_rule_rejects_with_its_own_code_and_field(
    product_changes: dict[str, object],
    deal_changes: dict[str, object],
    code: str,
    field: str | None,
) -> None:
    outcome = evaluate_product(
        product("p1", **product_changes), "B2", LIMIT, DEFAULT_POLICY, deal(**deal_changes)
    )
    rejection = rejection_of(outcome)
    assert (rejection.code, rejection.field, rejection.product_id) == (code, field, "p1")
    assert rejection.message


def test_an_eligible_deal_is_quoted_for_the_car_and_explains_itself() -> None:
    offer = offer_of(evaluate_product(product(), "B2", LIMIT, DEFAULT_POLICY, deal()))
    assert (offer.amount, offer.term_months) == (yuan(105_000), 36)
    assert offer.annual_rate == benchmark_rate("B2", DEFAULT_POLICY)
    assert len(offer.why_eligible) >= 3 and not offer.subsidised


def test_a_manufacturer_subsidy_applies_when_the_brand_qualifies_ignoring_case() -> None:
    subsidised = product(subsidy=Subsidy(frozenset({"byd"}), Decimal(0)))
    offer = offer_of(evaluate_product(subsidised, "D4", LIMIT, DEFAULT_POLICY, deal(brand=" BYD")))
    assert offer.subsidised and offer.annual_rate == 0 and offer.total_interest == 0


def test_a_subsidised_product_finances_only_its_brands_cars() -> None:
    """A BMW never gets a BYD product, subsidised or not: the maker's money is for its cars."""
    subsidised = product(subsidy=Subsidy(frozenset({"byd"}), Decimal(0)))
    bmw = evaluate_product(subsidised, "D4", LIMIT, DEFAULT_POLICY, deal(brand="bmw"))
    assert isinstance(bmw, Rejection) and bmw.code == "brand_not_covered"
    assert dict(bmw.params)["brands"] == "byd"
    # With no car chosen yet the product is shown at its card rate, as before.
    unknown = offer_of(evaluate_product(subsidised, "D4", LIMIT, DEFAULT_POLICY, deal()))
    assert not unknown.subsidised and unknown.annual_rate > 0


def test_ineligible_products_come_back_as_rejections_beside_the_offers() -> None:
    result = match_offers(
        [product("ok"), product("no", rate_card={})], "B2", LIMIT, DEFAULT_POLICY, deal()
    )
    assert [o.product_id for o in result.offers] == ["ok"]
    assert [(r.product_id, r.code) for r in result.rejections] == [("no", "grade_not_accepted")]
