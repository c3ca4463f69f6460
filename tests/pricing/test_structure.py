"""The deal's structure in the grade: the pre-approval assumes the worst; a real car earns its
own grade and price, never worse than the pre-approval's; every offer stays under the cap."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import (
    Applicant,
    BureauFacts,
    Deal,
    LoanStructure,
    Offer,
    VehicleType,
    assumed_structure,
    decide,
    default_scorecard,
    evaluate_product,
    evaluate_product_for_deal,
    grade_for_structure,
    population_stability_index,
    stability_verdict,
)
from pricing.fair_price import max_fair_rate
from pricing.grades import SUB_GRADES, grade_rank
from pricing.policy import DEFAULT_POLICY
from pricing.scorecard import ScoreBand, score_applicant
from pricing.structure import worst_structures
from shared.money import yuan
from tests.pricing.test_matching import product

CARD = default_scorecard()
APPLICANT = Applicant(
    age=35, monthly_income=yuan(25_000), employment_months=96, housing="own",  # type: ignore[arg-type]
    existing_monthly_debt=0,
)  # fmt: skip
CLEAN = BureauFacts()

applicants = st.builds(
    Applicant,
    age=st.integers(18, 70),
    monthly_income=st.integers(yuan(3_000), yuan(200_000)),
    employment_months=st.integers(0, 480),
    housing=st.sampled_from(["own", "mortgage", "rent", "family"]),
    existing_monthly_debt=st.integers(0, yuan(5_000)),
    assets=st.one_of(st.none(), st.integers(0, yuan(2_000_000))),
)
bureaus = st.builds(
    BureauFacts,
    delinquencies_24m=st.integers(0, 3),
    revolving_utilisation=st.one_of(st.none(), st.decimals("0", "1.5", places=2)),
)
deals = st.builds(
    Deal,
    car_price=st.integers(yuan(50_000), yuan(400_000)),
    down_payment=st.integers(0, yuan(50_000)),
    term_months=st.sampled_from([12, 24, 36, 48, 60]),
    vehicle_type=st.sampled_from(list(VehicleType)),
)


def test_the_built_in_card_prices_the_term_and_the_vehicle_type() -> None:
    assumed = assumed_structure(CARD, APPLICANT, CLEAN, DEFAULT_POLICY)
    assert assumed in worst_structures(DEFAULT_POLICY)
    scores = [
        score_applicant(CARD, APPLICANT, CLEAN, structure).score
        for structure in worst_structures(DEFAULT_POLICY)
    ]
    assert score_applicant(CARD, APPLICANT, CLEAN, assumed).score == min(scores)
    # No structure is worse than the assumed one: the pre-approval is the worst case.
    missing = score_applicant(CARD, APPLICANT, CLEAN).score
    assert score_applicant(CARD, APPLICANT, CLEAN, assumed).score <= missing


def test_a_new_car_over_36_months_earns_a_better_grade_than_the_preapproval() -> None:
    preapproval = decide(
        APPLICANT,
        CLEAN,
        DEFAULT_POLICY,
        CARD,
        assumed_structure(CARD, APPLICANT, CLEAN, DEFAULT_POLICY),
    )
    assert preapproval.grade is not None
    car = Deal(car_price=yuan(150_000), down_payment=yuan(50_000), term_months=36)
    earned = grade_for_structure(
        CARD, APPLICANT, CLEAN, LoanStructure.of_deal(car), DEFAULT_POLICY, preapproval.grade
    )
    assert grade_rank(earned.grade) < grade_rank(preapproval.grade) and not earned.capped
    assert preapproval.pd is not None and earned.pd < preapproval.pd
    offer = evaluate_product_for_deal(
        product(), earned.grade, preapproval.grade, yuan(200_000), DEFAULT_POLICY, car
    )
    promised = evaluate_product(product(), preapproval.grade, yuan(200_000), DEFAULT_POLICY, car)
    assert isinstance(offer, Offer) and isinstance(promised, Offer)
    assert offer.annual_rate < promised.annual_rate and offer.grade == earned.grade


@settings(max_examples=150, deadline=None)
@given(applicant=applicants, bureau=bureaus, car=deals)
def test_a_real_car_never_gets_a_worse_grade_or_a_higher_rate_than_its_preapproval(
    applicant: Applicant, bureau: BureauFacts, car: Deal
) -> None:
    assumed = assumed_structure(CARD, applicant, bureau, DEFAULT_POLICY)
    preapproval = decide(applicant, bureau, DEFAULT_POLICY, CARD, assumed)
    if not preapproval.approved or preapproval.grade is None:
        return
    earned = grade_for_structure(
        CARD, applicant, bureau, LoanStructure.of_deal(car), DEFAULT_POLICY, preapproval.grade
    )
    assert grade_rank(earned.grade) <= grade_rank(preapproval.grade)
    assert preapproval.pd is not None and earned.pd <= preapproval.pd
    # A lender whose card prices some grades unfairly must not hurt the buyer either.
    uneven = product(
        rate_card={g: Decimal("0.05") + Decimal(i % 7) / 100 for i, g in enumerate(SUB_GRADES)}
    )
    for terms in (product(), uneven):
        offer = evaluate_product_for_deal(
            terms, earned.grade, preapproval.grade, yuan(300_000), DEFAULT_POLICY, car
        )
        promised = evaluate_product(terms, preapproval.grade, yuan(300_000), DEFAULT_POLICY, car)
        if isinstance(promised, Offer):
            assert isinstance(offer, Offer) and offer.annual_rate <= promised.annual_rate


@settings(max_examples=200, deadline=None)
@given(
    grade=st.sampled_from(SUB_GRADES),
    vehicle_type=st.sampled_from(list(VehicleType)),
    fee=st.integers(0, yuan(5_000)),
    term=st.sampled_from([12, 24, 36, 48, 60]),
)
def test_every_offer_stays_under_the_legal_cap_with_the_new_ladder(
    grade: str, vehicle_type: VehicleType, fee: int, term: int
) -> None:
    # The dearest a lender may ask: the fair ceiling of every grade for this vehicle type.
    greedy = product(
        rate_card={g: max_fair_rate(g, DEFAULT_POLICY, vehicle_type) for g in SUB_GRADES},
        upfront_fee=fee,
        vehicle_types=frozenset(VehicleType),
    )
    term = min(term, 36) if vehicle_type is VehicleType.USED else term
    car = dataclasses.replace(
        Deal(car_price=yuan(100_000), down_payment=yuan(30_000), term_months=term),
        vehicle_type=vehicle_type,
    )
    for outcome in (
        evaluate_product(greedy, grade, yuan(100_000), DEFAULT_POLICY, car),
        evaluate_product(greedy, grade, yuan(100_000), DEFAULT_POLICY),
    ):
        if isinstance(outcome, Offer):
            assert outcome.annual_rate <= DEFAULT_POLICY.legal_cap_apr
            assert outcome.apr <= DEFAULT_POLICY.legal_cap_apr


def test_the_psi_of_scores_against_the_development_bands() -> None:
    bands = (ScoreBand(None, 600, Decimal("0.5")), ScoreBand(600, None, Decimal("0.5")))
    # Three of four below 600: (0.75 − 0.5)·ln 1.5 + (0.25 − 0.5)·ln 0.5 = 0.2747
    assert population_stability_index(bands, [550, 580, 599, 640]) == Decimal("0.2747")
    assert population_stability_index(bands, [550, 650]) == Decimal("0.0000")
    assert population_stability_index(bands, []) is None
    assert stability_verdict(Decimal("0.2747")) == "shifted"
    assert stability_verdict(Decimal("0.05")) == "stable"
