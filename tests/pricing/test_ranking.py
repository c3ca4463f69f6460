"""Offers ranked by the buyer's cost, never by what the platform earns."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.loan_math import RepaymentMethod
from pricing.matching import match_offers
from pricing.policy import DEFAULT_POLICY
from pricing.products import ProductTerms
from shared.money import yuan
from tests.pricing.catalogue import LIMIT, deal, product


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
