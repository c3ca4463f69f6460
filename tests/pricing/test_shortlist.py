"""The offers a pre-approval keeps, and the estimate that lets it skip quoting most products."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.loan_math import RepaymentMethod, quote_loan
from pricing.matching import match_offers
from pricing.policy import DEFAULT_POLICY
from pricing.products import Subsidy, VehicleType
from pricing.shortlist import Catalogue, _estimated_interest, _slack, best_offers, shortlist
from shared.money import yuan
from tests.pricing.catalogue import LIMIT, product


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
@given(
    entries=st.lists(_catalogue_entry, min_size=1, max_size=40),
    keep=st.integers(1, 6),
    limits=st.lists(st.sampled_from([yuan(25_000), LIMIT, yuan(400_000)]), min_size=1, max_size=3),
)
def test_best_offers_keeps_exactly_what_quoting_every_product_would_keep(
    entries: list[tuple[Decimal, int, tuple[int, ...], RepaymentMethod, int, frozenset, bool]],
    keep: int,
    limits: list[int],
) -> None:
    """Skipping the products whose estimated cost cannot reach the shortlist, and stopping once
    no product left could be kept, changes nothing: the same offers, the same ranks and
    reasons, as ranking every product exactly — also for one prepared catalogue answering one
    applicant after another."""
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
    prepared = Catalogue(catalogue)
    for limit in limits:
        everything = match_offers(catalogue, "C1", limit, DEFAULT_POLICY).offers
        expected = shortlist(everything, catalogue, keep)
        assert best_offers(catalogue, "C1", limit, DEFAULT_POLICY, keep) == expected
        assert prepared.best_offers("C1", limit, DEFAULT_POLICY, keep) == expected


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
