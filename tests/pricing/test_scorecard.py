"""Scorecard, grades and the credit decision."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.applicant import Applicant, BureauFacts, Housing
from pricing.decision import decide
from pricing.grades import SUB_GRADES, grade_for_pd, grade_rank
from pricing.policy import DEFAULT_POLICY
from pricing.scorecard import (
    ScorecardError,
    default_scorecard,
    load_scorecard,
    parse_scorecard,
    score_applicant,
)
from shared.money import yuan

CARD_FILE = Path(__file__).parents[2] / "pricing" / "scorecards" / "default-v1.json"


def salaried(income_yuan: int = 10_000, housing: Housing = Housing.RENT) -> Applicant:
    return Applicant(32, yuan(income_yuan), 40, housing, yuan(1_500))


CLEAN = BureauFacts(inquiries_6m=1, revolving_utilisation=Decimal("0.35"), credit_history_months=48)


def letter(grade: str | None) -> str:
    assert grade is not None
    return grade[0]


@pytest.mark.parametrize("income_yuan", [8_000, 10_000, 12_000, 15_000])
@pytest.mark.parametrize("housing", [Housing.RENT, Housing.FAMILY, Housing.MORTGAGE])
def test_a_typical_salaried_urban_applicant_with_a_clean_file_grades_around_b_to_c(
    income_yuan: int, housing: Housing
) -> None:
    decision = decide(salaried(income_yuan, housing), CLEAN)
    assert decision.approved
    assert letter(decision.grade) in {"A", "B", "C"}
    assert decision.grade is not None and grade_rank("A4") <= grade_rank(decision.grade)


def test_a_thin_file_grades_down_to_e_or_worse() -> None:
    thin = BureauFacts(inquiries_6m=1, revolving_utilisation=None, credit_history_months=3)
    decision = decide(Applicant(23, yuan(6_000), 8, Housing.RENT, 0), thin)
    assert letter(decision.grade) in {"E", "F", "G"}
    assert decision.reasons[0].code == "short_credit_history"


def test_recent_delinquencies_grade_down_to_e_to_g_with_those_reasons_first() -> None:
    late = BureauFacts(2, 45, 4, Decimal("0.8"), 48)
    decision = decide(Applicant(32, yuan(10_000), 40, Housing.RENT, 0), late)
    assert decision.approved
    assert letter(decision.grade) in {"E", "F", "G"}
    assert [r.code for r in decision.reasons[:2]] == ["recent_delinquencies", "serious_past_due"]


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


def test_a_score_beyond_g5_is_declined_with_the_attributes_that_cost_the_most() -> None:
    worst = BureauFacts(3, 120, 9, Decimal("0.95"), 10)
    decision = decide(Applicant(20, yuan(4_000), 2, Housing.RENT, yuan(2_500)), worst)
    assert not decision.approved and decision.grade is None
    assert decision.reasons[0].code == "score_below_cutoff"
    assert len(decision.reasons) == 4


def test_every_decision_records_the_scorecard_version() -> None:
    assert decide(salaried(), CLEAN).scorecard_version == "default-v1"
    assert decide(Applicant(17, 1, 0, Housing.RENT, 0), CLEAN).scorecard_version == "default-v1"


def test_reasons_are_ordered_by_points_lost_against_the_best_bin() -> None:
    result = score_applicant(default_scorecard(), salaried(), CLEAN)
    lost = {item.reason.code: item.points_lost for item in result.attributes}
    codes = [reason.code for reason in result.reasons()]
    assert len(codes) <= 4
    assert [lost[code] for code in codes] == sorted((lost[code] for code in codes), reverse=True)
    assert min(lost[code] for code in codes) >= max(
        (v for c, v in lost.items() if c not in codes), default=0
    )


def test_the_scaling_is_600_points_at_odds_50_to_1_doubling_every_20_points() -> None:
    scaling = default_scorecard().scaling
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
    scaling, ceilings = default_scorecard().scaling, DEFAULT_POLICY.grade_pd_ceilings
    low, high = min(a, b), max(a, b)
    assert scaling.pd(high) <= scaling.pd(low)
    grade_low, grade_high = (
        grade_for_pd(scaling.pd(low), ceilings),
        grade_for_pd(scaling.pd(high), ceilings),
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
) -> None:
    applicant = Applicant(age, income, employment, housing, debt)
    bureau = BureauFacts(delinquencies, dpd, inquiries, utilisation, history)
    decision = decide(applicant, bureau)
    assert len(decision.reasons) <= 4
    assert decision.approved == (decision.credit_limit > 0)
    if decision.approved:
        assert decision.grade in SUB_GRADES
        assert decision.credit_limit >= DEFAULT_POLICY.min_loan
        assert decision.credit_limit % DEFAULT_POLICY.credit_line_step == 0
    else:
        assert decision.reasons


def test_a_new_scorecard_version_can_be_loaded_from_json(tmp_path: Path) -> None:
    data = json.loads(CARD_FILE.read_text(encoding="utf-8"))
    data["version"] = "default-v2"
    data["base_points"] = 20
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    card = load_scorecard(path)
    assert card.version == "default-v2"
    before = score_applicant(default_scorecard(), salaried(), CLEAN).score
    assert score_applicant(card, salaried(), CLEAN).score == before + 20
    assert decide(salaried(), CLEAN, scorecard=card).scorecard_version == "default-v2"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["characteristics"][0].update(attribute="shoe_size"), "unknown attribute"),
        (lambda d: d["characteristics"][0]["bins"].pop(2), "without gaps"),
        (lambda d: d.pop("version"), "version"),
        (lambda d: d["characteristics"].append(d["characteristics"][0]), "only once"),
    ],
)
def test_a_malformed_scorecard_is_refused_saying_what_is_wrong(mutate, message) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(CARD_FILE.read_text(encoding="utf-8"))
    mutate(data)
    with pytest.raises(ScorecardError, match=message):
        parse_scorecard(data)
