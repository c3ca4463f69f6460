"""Matching products to an applicant and ranking offers by the buyer's cost."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.fair_price import benchmark_rate
from pricing.grades import SUB_GRADES
from pricing.loan_math import RepaymentMethod, quote_loan
from pricing.matching import (
    Offer,
    Rejection,
    _estimated_interest,
    _slack,
    best_offers,
    evaluate_product,
    match_offers,
    reference_term,
    shortlist,
)
from pricing.policy import DEFAULT_POLICY
from pricing.products import Deal, ProductTerms, Subsidy, VehicleType
from shared.money import yuan

LIMIT = yuan(150_000)


def product(product_id: str = "p1", **changes: object) -> ProductTerms:
    terms = ProductTerms(
        product_id=product_id,
        version=1,
        lender_id="lender-1",
        lender_name="Bank of Autofin",
        name="New car loan",
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        terms_months=(12, 24, 36, 48, 60),
        min_amount=yuan(20_000),
        max_amount=yuan(300_000),
        max_ltv=Decimal("0.80"),
        min_down_payment_ratio=Decimal("0.20"),
        upfront_fee=0,
        rate_card={grade: benchmark_rate(grade, DEFAULT_POLICY) for grade in SUB_GRADES},
    )
    return dataclasses.replace(terms, **changes)  # type: ignore[arg-type]


def deal(**changes: object) -> Deal:
    base = Deal(car_price=yuan(150_000), down_payment=yuan(45_000), term_months=36)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def offer_of(outcome: Offer | Rejection) -> Offer:
    assert isinstance(outcome, Offer), outcome
    return outcome


def rejection_of(outcome: Offer | Rejection) -> Rejection:
    assert isinstance(outcome, Rejection), outcome
    return outcome


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


def test_offers_are_ranked_by_total_cost_then_payment_then_lender_then_product() -> None:
    cheap = product("cheap", rate_card={"B2": Decimal("0.04")}, lender_name="Zeta Bank")
    dear = product("dear", rate_card={"B2": Decimal("0.07")}, lender_name="Alpha Bank")
    fee = product("fee", rate_card={"B2": Decimal("0.04")}, upfront_fee=yuan(500))
    twin_b = product("twin-b", rate_card={"B2": Decimal("0.05")}, lender_name="Same")
    twin_a = product("twin-a", rate_card={"B2": Decimal("0.05")}, lender_name="Same")
    result = match_offers([dear, twin_b, fee, cheap, twin_a], "B2", LIMIT, DEFAULT_POLICY, deal())
    assert [o.product_id for o in result.offers] == ["cheap", "fee", "twin-a", "twin-b", "dear"]
    assert [o.rank for o in result.offers] == [1, 2, 3, 4, 5]
    assert "lowest total cost" in result.offers[0].rank_reason
    assert "ordered by lender" in result.offers[3].rank_reason


def test_an_approval_keeps_the_cheapest_offers_and_enough_for_any_car() -> None:
    """Of 30 matching products the approval keeps the 3 cheapest, the 3 cheapest a used car can
    take and the 3 cheapest any brand can take, ranked again among themselves: nothing kept is
    dearer than a dropped offer it competes with."""
    new_only = frozenset({VehicleType.NEW})
    catalogue = [
        product(f"n{n:02}", rate_card={"B2": Decimal("0.040") + Decimal(n) / 1000})
        for n in range(10)
    ]
    catalogue = [dataclasses.replace(p, vehicle_types=new_only) for p in catalogue]
    byd = Subsidy(frozenset({"byd"}), Decimal(0))
    catalogue += [
        product(f"s{n:02}", rate_card={"B2": Decimal("0.050") + Decimal(n) / 1000}, subsidy=byd)
        for n in range(10)
    ]
    catalogue += [
        product(f"u{n:02}", rate_card={"B2": Decimal("0.060") + Decimal(n) / 1000})
        for n in range(10)
    ]
    ranked = match_offers(catalogue, "B2", LIMIT, DEFAULT_POLICY).offers
    kept = shortlist(ranked, catalogue, 3)
    # new-only n00-n02 are cheapest overall; for a used car (and for any brand) the cheapest are
    # the unsubsidised u00-u02 (the subsidised s.. serve BYD cars only).
    assert [o.product_id for o in kept] == ["n00", "n01", "n02", "u00", "u01", "u02"]
    assert [o.rank for o in kept] == [1, 2, 3, 4, 5, 6]
    assert kept[0].rank_reason.startswith("ranked 1 of 6")
    assert shortlist(ranked, catalogue, 0) == ranked  # 0 keeps every offer
    assert len(shortlist(ranked, catalogue, 40)) == 30


def test_ineligible_products_come_back_as_rejections_beside_the_offers() -> None:
    result = match_offers(
        [product("ok"), product("no", rate_card={})], "B2", LIMIT, DEFAULT_POLICY, deal()
    )
    assert [o.product_id for o in result.offers] == ["ok"]
    assert [(r.product_id, r.code) for r in result.rejections] == [("no", "grade_not_accepted")]


products_strategy = st.lists(
    st.builds(
        lambda i, bp, fee, term, lender, method: product(
            f"p{i}",
            rate_card={"C1": Decimal(bp) / 10_000},
            upfront_fee=fee,
            terms_months=(term,),
            lender_name=lender,
            method=method,
        ),
        i=st.integers(0, 10_000),
        bp=st.integers(0, 900),
        fee=st.sampled_from([0, yuan(500), yuan(2_000)]),
        term=st.sampled_from([12, 24, 36, 48]),
        lender=st.sampled_from(["Alpha", "Beta", "Gamma"]),
        method=st.sampled_from(list(RepaymentMethod)),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda p: p.product_id,
)


@settings(max_examples=200, deadline=None)
@given(
    products=products_strategy,
    commissions=st.lists(st.decimals(0, Decimal("0.2"), places=4), min_size=12, max_size=12),
    guarantees=st.lists(st.booleans(), min_size=12, max_size=12),
    versions=st.lists(st.integers(1, 99), min_size=12, max_size=12),
    with_deal=st.booleans(),
)
def test_commission_and_other_non_cost_fields_never_change_the_order(
    products: list[ProductTerms],
    commissions: list[Decimal],
    guarantees: list[bool],
    versions: list[int],
    with_deal: bool,
) -> None:
    the_deal = deal(term_months=36) if with_deal else None
    if the_deal is not None:
        products = [dataclasses.replace(p, terms_months=(36,)) for p in products]
    before = match_offers(products, "C1", LIMIT, DEFAULT_POLICY, the_deal)
    changed = [
        dataclasses.replace(p, commission_rate=c, platform_guarantee=g, version=v)
        for p, c, g, v in zip(products, commissions, guarantees, versions, strict=False)
    ]
    after = match_offers(list(reversed(changed)), "C1", LIMIT, DEFAULT_POLICY, the_deal)
    assert [o.product_id for o in after.offers] == [o.product_id for o in before.offers]
    costs = [o.total_cost for o in after.offers]
    assert costs == sorted(costs)


_catalogue_entry = st.tuples(
    st.decimals(0, Decimal("0.30"), places=4),  # the grade's card rate (above the band: refused)
    st.sampled_from([yuan(30_000), yuan(80_000), yuan(300_000)]),  # maximum amount
    st.sampled_from([(12,), (24, 36), (36, 60), (48,)]),
    st.sampled_from(list(RepaymentMethod)),
    st.sampled_from([0, yuan(500), yuan(3_000)]),  # upfront fee
    st.sampled_from(
        [frozenset(VehicleType), frozenset({VehicleType.NEW}), frozenset({VehicleType.USED})]
    ),
    st.booleans(),  # a manufacturer subsidy (one brand's cars only)
)


@settings(max_examples=150, deadline=None)
@given(entries=st.lists(_catalogue_entry, min_size=1, max_size=40), keep=st.integers(1, 6))
def test_best_offers_keeps_exactly_what_quoting_every_product_would_keep(
    entries: list[tuple[Decimal, int, tuple[int, ...], RepaymentMethod, int, frozenset, bool]],
    keep: int,
) -> None:
    """Skipping the products whose estimated cost cannot reach the shortlist changes nothing:
    the same offers, the same ranks and reasons, as ranking every product exactly."""
    catalogue = [
        product(
            f"p{n:02}",
            lender_name=f"Lender {n % 3}",
            rate_card={"C1": rate},
            max_amount=most,
            terms_months=terms,
            method=method,
            upfront_fee=fee,
            vehicle_types=vehicles,
            subsidy=Subsidy(frozenset({"byd"}), Decimal(0)) if subsidised else None,
        )
        for n, (rate, most, terms, method, fee, vehicles, subsidised) in enumerate(entries)
    ]
    everything = match_offers(catalogue, "C1", LIMIT, DEFAULT_POLICY).offers
    assert best_offers(catalogue, "C1", LIMIT, DEFAULT_POLICY, keep) == shortlist(
        everything, catalogue, keep
    )


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(yuan(1_000), yuan(1_000_000)),
    rate=st.decimals(0, Decimal("0.36"), places=4),
    term=st.integers(1, 84),
    method=st.sampled_from(list(RepaymentMethod)),
)
def test_the_cost_estimate_is_within_its_slack_of_the_exact_schedule(
    amount: int, rate: Decimal, term: int, method: RepaymentMethod
) -> None:
    exact = quote_loan(amount, rate, term, method).total_interest
    estimate = _estimated_interest(amount, rate, term, method)
    assert abs(estimate - exact) <= _slack(exact, term) // 2
