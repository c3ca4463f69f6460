"""Scorecard, grades and the credit decision.

The built-in card is trained (``docs/risk/``); ``cards/expert-v1.json`` is the hand-written card
it replaced, kept to prove that cards in the original format still load and score as before."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import decision
from pricing.applicant import (
    UNKNOWN_STRUCTURE,
    Applicant,
    BureauFacts,
    EmploymentType,
    Housing,
    LoanStructure,
    MaritalStatus,
)
from pricing.decision import Decision, hard_rule_reasons
from pricing.grades import SUB_GRADES, grade_for_pd, grade_rank
from pricing.policy import DEFAULT_POLICY
from pricing.products import VehicleType
from pricing.scorecard import PdModel, Scorecard, score_applicant, score_values
from pricing.scorecard_file import (
    default_scorecard,
    load_scorecard,
)
from shared.money import yuan
from tests.pricing.applicants import CARD_FILE, CLEAN, salaried

EXPERT = load_scorecard(CARD_FILE)
BUILT_IN = default_scorecard()


def decide(
    applicant: Applicant,
    bureau: BureauFacts,
    *,
    scorecard: Scorecard = BUILT_IN,
    structure: LoanStructure = UNKNOWN_STRUCTURE,
) -> Decision:
    """The decision under the default policy, with the built-in card unless told another."""
    return decision.decide(applicant, bureau, DEFAULT_POLICY, scorecard, structure)


def letter(grade: str | None) -> str:
    assert grade is not None
    return grade[0]


@pytest.mark.parametrize("income_yuan", [8_000, 10_000, 12_000, 15_000])
@pytest.mark.parametrize("housing", [Housing.RENT, Housing.FAMILY, Housing.MORTGAGE])
def test_a_typical_salaried_urban_applicant_with_a_clean_file_grades_a_to_c(
    income_yuan: int, housing: Housing
) -> None:
    decision = decide(salaried(income_yuan, housing), CLEAN)
    assert decision.approved
    assert letter(decision.grade) in {"A", "B", "C"}
    assert decision.scorecard_version == "german-credit-v2"


def test_the_built_in_card_ranks_a_settled_applicant_above_an_overdrawn_newcomer() -> None:
    settled = Applicant(45, yuan(12_000), 120, Housing.OWN, 0, assets=yuan(200_000))
    newcomer = Applicant(21, yuan(6_000), 3, Housing.RENT, 0, assets=yuan(300))
    overdrawn = BureauFacts(revolving_utilisation=Decimal("1.0"), credit_history_months=12)
    good, risky = decide(settled, CLEAN), decide(newcomer, overdrawn)
    assert good.approved and risky.approved
    assert good.score is not None and risky.score is not None and good.score > risky.score
    assert good.pd is not None and risky.pd is not None and risky.pd > 3 * good.pd
    assert grade_rank(risky.grade or "G5") > grade_rank(good.grade or "A1")
    assert {r.code for r in risky.reasons} >= {"high_utilisation", "short_employment"}


def test_the_loan_structure_moves_the_score_once_it_is_known() -> None:
    card, applicant = default_scorecard(), salaried()
    unknown = score_applicant(card, applicant, CLEAN).score
    long_new = LoanStructure(term_months=60, vehicle_type=VehicleType.NEW)
    short_used = LoanStructure(term_months=12, vehicle_type=VehicleType.USED)
    assert score_applicant(card, applicant, CLEAN, long_new).score < unknown
    assert score_applicant(card, applicant, CLEAN, short_used).score > unknown
    assert decide(applicant, CLEAN, structure=long_new).pd > decide(applicant, CLEAN).pd  # type: ignore[operator]


def test_a_thin_file_grades_down_to_e_or_worse_on_a_card_that_bins_history() -> None:
    thin = BureauFacts(inquiries_6m=1, revolving_utilisation=None, credit_history_months=3)
    decision = decide(Applicant(23, yuan(6_000), 8, Housing.RENT, 0), thin, scorecard=EXPERT)
    assert letter(decision.grade) in {"E", "F", "G"}
    assert decision.reasons[0].code == "short_credit_history"
    assert decision.scorecard_version == "default-v1"


def test_recent_delinquencies_grade_down_to_e_to_g_with_those_reasons_first() -> None:
    late = BureauFacts(2, 45, 4, Decimal("0.8"), 48)
    decision = decide(Applicant(32, yuan(10_000), 40, Housing.RENT, 0), late, scorecard=EXPERT)
    assert decision.approved
    assert letter(decision.grade) in {"E", "F", "G"}
    assert [r.code for r in decision.reasons[:2]] == ["recent_delinquencies", "serious_past_due"]


def test_an_applicant_who_declares_nothing_optional_scores_and_is_not_declined_for_it() -> None:
    bare = Applicant(30, yuan(9_000), 24, Housing.FAMILY, 0)
    no_lines = BureauFacts(revolving_utilisation=None, credit_history_months=24)
    result = score_applicant(default_scorecard(), bare, no_lines)
    assert {item.attribute for item in result.attributes if item.value is None} >= {
        "assets", "term_months", "vehicle_type", "revolving_utilisation",
    }  # fmt: skip
    assert decide(bare, no_lines).approved


def test_a_missing_value_scores_in_the_missing_bin_and_an_unlisted_category_too() -> None:
    card = default_scorecard()
    vehicle = next(c for c in card.characteristics if c.attribute == "vehicle_type")
    missing = next(b for b in vehicle.bins if b.missing)
    assert vehicle.bin_for(None) is missing
    assert vehicle.bin_for("tractor") is missing
    assert score_values(card, {}).score == card.base_points + sum(
        next(b.points for b in c.bins if b.missing) for c in card.characteristics
    )


def test_a_hand_written_card_without_a_missing_bin_scores_a_missing_value_cautiously() -> None:
    age = next(c for c in EXPERT.characteristics if c.attribute == "age")
    assert age.bin_for(None).points == min(b.points for b in age.bins)


def test_hard_rules_fire_only_on_values_that_are_present() -> None:
    assert (
        hard_rule_reasons(DEFAULT_POLICY, age=None, monthly_income=None, has_write_off=None) == ()
    )
    assert [
        r.code
        for r in hard_rule_reasons(DEFAULT_POLICY, age=17, monthly_income=0, has_write_off=True)
    ] == ["under_min_age", "write_off_on_file", "no_income"]


def test_the_optional_profile_is_validated() -> None:
    applicant = Applicant(
        30, yuan(9_000), 24, Housing.RENT, 0, marital_status="married",  # type: ignore[arg-type]
        employment_type=EmploymentType.CIVIL_SERVANT, monthly_expenses=yuan(3_000),
        assets=yuan(50_000), dependents=2,
    )  # fmt: skip
    assert applicant.marital_status is MaritalStatus.MARRIED
    with pytest.raises(ValueError, match="employment_type"):
        Applicant(30, 1, 0, Housing.RENT, 0, employment_type="astronaut")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dependents"):
        Applicant(30, 1, 0, Housing.RENT, 0, dependents=-1)


def test_the_calibrated_pd_model_gives_the_pd() -> None:
    assert PdModel(Decimal(0), Decimal(1)).pd(0) == Decimal("0.5")
    nine_to_one = PdModel(Decimal(9).ln(), Decimal("0.01"))
    assert nine_to_one.pd(0) == Decimal("0.1")
    card = default_scorecard()
    assert card.pd_model is not None
    assert card.pd(600) == card.pd_model.pd(600) != card.scaling.pd(600)
    assert EXPERT.pd_model is None and EXPERT.pd(600) == EXPERT.scaling.pd(600)


def test_the_built_in_card_keeps_its_development_score_distribution() -> None:
    bands = default_scorecard().score_distribution
    assert len(bands) >= 5 and bands[0].lower is None and bands[-1].upper is None
    assert abs(sum(band.share for band in bands) - 1) < Decimal("0.001")


@pytest.mark.parametrize(
    ("applicant", "bureau", "code"),
    [
        (Applicant(17, yuan(9_000), 12, Housing.FAMILY, 0), CLEAN, "under_min_age"),
        (Applicant(71, yuan(9_000), 12, Housing.OWN, 0), CLEAN, "over_max_age"),
        (salaried(), BureauFacts(has_write_off=True), "write_off_on_file"),
        (Applicant(30, 0, 0, Housing.RENT, 0), CLEAN, "no_income"),
    ],
)
def test_hard_rules_decline_whatever_the_score(
    applicant: Applicant, bureau: BureauFacts, code: str
) -> None:
    decision = decide(applicant, bureau)
    assert not decision.approved
    assert decision.credit_limit == 0
    assert decision.reasons[0].code == code
    assert decision.reasons[0].zh and decision.reasons[0].en


def test_the_built_in_card_spans_the_ladder_from_a1_to_g() -> None:
    best = Applicant(45, yuan(30_000), 120, Housing.OWN, 0, assets=yuan(500_000))
    worst = Applicant(20, yuan(4_000), 2, Housing.RENT, 0, assets=yuan(100))
    overdrawn = BureauFacts(3, 120, 9, Decimal("0.95"), 10)
    short_used = LoanStructure(term_months=6, vehicle_type=VehicleType.USED)
    long_new = LoanStructure(term_months=72, vehicle_type=VehicleType.NEW)
    assert decide(best, BureauFacts(), structure=short_used).grade == "A1"
    assert letter(decide(worst, overdrawn, structure=long_new).grade) == "G"


def test_a_score_beyond_g5_is_declined_with_the_attributes_that_cost_the_most() -> None:
    worst = BureauFacts(3, 120, 9, Decimal("0.95"), 10)
    applicant = Applicant(20, yuan(4_000), 2, Housing.RENT, yuan(2_500))
    decision = decide(applicant, worst, scorecard=EXPERT)
    assert not decision.approved and decision.grade is None
    assert decision.reasons[0].code == "score_below_cutoff"
    assert len(decision.reasons) == 4


def test_every_decision_records_the_scorecard_version() -> None:
    assert decide(salaried(), CLEAN).scorecard_version == "german-credit-v2"
    declined = decide(Applicant(17, 1, 0, Housing.RENT, 0), CLEAN)
    assert declined.scorecard_version == "german-credit-v2"
    assert decide(salaried(), CLEAN, scorecard=EXPERT).scorecard_version == "default-v1"


@pytest.mark.parametrize("card", [default_scorecard(), EXPERT], ids=["built-in", "expert-v1"])
def test_reasons_are_ordered_by_points_lost_against_the_best_bin(card) -> None:  # type: ignore[no-untyped-def]
    result = score_applicant(card, salaried(), CLEAN)
    # What was not given (the loan's structure at pre-approval) is never a reason.
    given = [item for item in result.attributes if item.value is not None]
    lost = {item.reason.code: item.points_lost for item in given}
    codes = [reason.code for reason in result.reasons()]
    assert codes and len(codes) <= 4
    assert [lost[code] for code in codes] == sorted((lost[code] for code in codes), reverse=True)
    assert min(lost[code] for code in codes) >= max(
        (v for c, v in lost.items() if c not in codes), default=0
    )


@pytest.mark.parametrize("card", [default_scorecard(), EXPERT], ids=["built-in", "expert-v1"])
def test_the_scaling_is_600_points_at_odds_50_to_1_doubling_every_20_points(card) -> None:  # type: ignore[no-untyped-def]
    scaling = card.scaling
    assert scaling.odds(600) == 50
    assert abs(scaling.odds(620) - 100) < Decimal("1e-20")
    assert scaling.pd(600) == Decimal("0.01960784")  # 1 / 51


def test_grades_are_strictly_monotone_in_pd() -> None:
    ceilings = DEFAULT_POLICY.grade_pd_ceilings
    assert len(SUB_GRADES) == 35 and SUB_GRADES[0] == "A1" and SUB_GRADES[-1] == "G5"
    assert all(low < high for low, high in zip(ceilings, ceilings[1:], strict=False))
    assert grade_for_pd(Decimal(0), ceilings) == "A1"
    assert grade_for_pd(ceilings[0], ceilings) == "A2"  # bands are [lower, upper)
    assert grade_for_pd(ceilings[-1], ceilings) is None


@settings(max_examples=200, deadline=None)
@given(a=st.integers(300, 700), b=st.integers(300, 700))
def test_a_higher_score_never_gets_a_worse_grade(a: int, b: int) -> None:
    card, ceilings = default_scorecard(), DEFAULT_POLICY.grade_pd_ceilings
    low, high = min(a, b), max(a, b)
    assert card.pd(high) <= card.pd(low)
    grade_low, grade_high = (
        grade_for_pd(card.pd(low), ceilings),
        grade_for_pd(card.pd(high), ceilings),
    )
    if grade_low is not None:
        assert grade_high is not None and grade_rank(grade_high) <= grade_rank(grade_low)


@settings(max_examples=200, deadline=None)
@given(
    age=st.integers(18, 70),
    income=st.integers(1, yuan(100_000)),
    employment=st.integers(0, 480),
    housing=st.sampled_from(list(Housing)),
    debt=st.integers(0, yuan(50_000)),
    delinquencies=st.integers(0, 20),
    dpd=st.integers(0, 720),
    inquiries=st.integers(0, 30),
    utilisation=st.one_of(st.none(), st.decimals(0, 3, places=4)),
    history=st.integers(0, 600),
    marital=st.one_of(st.none(), st.sampled_from(list(MaritalStatus))),
    assets=st.one_of(st.none(), st.integers(0, yuan(10_000_000))),
    term=st.one_of(st.none(), st.integers(1, 84)),
)
def test_every_applicant_gets_a_decision_with_at_most_four_reasons(
    age: int,
    income: int,
    employment: int,
    housing: Housing,
    debt: int,
    delinquencies: int,
    dpd: int,
    inquiries: int,
    utilisation: Decimal | None,
    history: int,
    marital: MaritalStatus | None,
    assets: int | None,
    term: int | None,
) -> None:
    applicant = Applicant(
        age, income, employment, housing, debt, marital_status=marital, assets=assets
    )
    bureau = BureauFacts(delinquencies, dpd, inquiries, utilisation, history)
    decision = decide(applicant, bureau, structure=LoanStructure(term_months=term))
    assert len(decision.reasons) <= 4
    assert decision.approved == (decision.credit_limit > 0)
    if decision.approved:
        assert decision.grade in SUB_GRADES
        assert decision.credit_limit >= DEFAULT_POLICY.min_loan
        assert decision.credit_limit % DEFAULT_POLICY.credit_line_step == 0
    else:
        assert decision.reasons
