"""Benchmark rates, fairness and credit lines."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.credit_line import credit_line
from pricing.fair_price import annual_loss_rate, assess_rate, benchmark_ladder, benchmark_rate
from pricing.grades import SUB_GRADES
from pricing.loan_math import level_payment
from pricing.policy import DEFAULT_POLICY, RiskPolicy
from shared.money import yuan


def test_the_benchmark_ladder_rises_strictly_from_a1_to_g5_under_the_legal_cap() -> None:
    rates = [rung.benchmark_rate for rung in benchmark_ladder(DEFAULT_POLICY)]
    assert all(better < worse for better, worse in zip(rates, rates[1:], strict=False))
    assert Decimal("0.04") <= rates[0] <= Decimal("0.05")
    assert Decimal("0.21") <= rates[-1] <= Decimal("0.23")
    assert rates[-1] < DEFAULT_POLICY.legal_cap_apr


def test_the_benchmark_is_funding_plus_expected_loss_plus_servicing_plus_margin() -> None:
    lgd = {"new": Decimal("0.5"), "used": Decimal("0.6")}
    policy = RiskPolicy(cost_of_funds=Decimal("0.03"), servicing_cost=Decimal("0.01"),
                        margin=Decimal("0.01"), lgd_by_vehicle_type=lgd)  # fmt: skip
    # A1's band is [0, 0.5 %): priced at its midpoint, −ln(1 − 0.25 %) × 50 % = 0.125 %.
    assert benchmark_rate("A1", policy) == Decimal("0.0513")
    assert benchmark_rate("A1", policy, "used") == Decimal("0.0515")
    # G5's band is [34 %, 37.5 %): a 35.75 % chance a year is a 44.2 % default intensity on
    # the balance, so the loss a rate must cover is steeper than PD × LGD (17.9 %).
    assert benchmark_rate("G5", policy) == Decimal("0.2712")


def test_a_used_car_has_the_higher_benchmark_of_the_same_grade() -> None:
    for rung in benchmark_ladder(DEFAULT_POLICY):
        assert rung.used_benchmark_rate > rung.benchmark_rate
        assert rung.used_max_fair_rate >= rung.max_fair_rate
        assert rung.used_max_fair_rate <= DEFAULT_POLICY.legal_cap_apr


def test_the_annual_loss_is_the_default_intensity_a_12_month_pd_implies() -> None:
    assert annual_loss_rate(Decimal(0)) == 0
    assert abs(annual_loss_rate(Decimal("0.01")) - Decimal("0.01005034")) < Decimal("1e-8")
    assert abs(annual_loss_rate(Decimal("0.5")) - Decimal("0.69314718")) < Decimal("1e-8")


def test_pricing_below_the_benchmark_is_always_fair() -> None:
    assert assess_rate(Decimal(0), "G5", DEFAULT_POLICY).fair


def test_a_rate_more_than_the_band_above_the_benchmark_is_not_fair() -> None:
    benchmark = benchmark_rate("B2", DEFAULT_POLICY)
    band = DEFAULT_POLICY.fairness_band
    assert assess_rate(benchmark + band, "B2", DEFAULT_POLICY).fair
    verdict = assess_rate(benchmark + band + Decimal("0.0001"), "B2", DEFAULT_POLICY)
    assert (verdict.fair, verdict.code) == (False, "rate_above_fair_band")


def test_nothing_above_the_legal_cap_is_fair_even_within_the_band() -> None:
    verdict = assess_rate(Decimal("0.2401"), "G5", DEFAULT_POLICY)
    assert (verdict.fair, verdict.code) == (False, "rate_above_legal_cap")
    with_fee = assess_rate(Decimal("0.22"), "G5", DEFAULT_POLICY, apr=Decimal("0.2450"))
    assert (with_fee.fair, with_fee.code) == (False, "apr_above_legal_cap")


def test_a_credit_line_is_the_principal_the_spare_income_repays_over_36_months() -> None:
    line = credit_line("B3", yuan(10_000), yuan(1_000), DEFAULT_POLICY)
    assert line.approved
    assert line.max_monthly_payment == yuan(10_000) * 45 // 100 - yuan(1_000)
    assert line.limit % yuan(100) == 0
    assert 0 <= line.affordable_principal - line.limit < yuan(100)
    payment = level_payment(line.limit, line.benchmark_rate, 36)
    assert payment <= line.max_monthly_payment


def test_a_credit_line_is_capped_by_grade() -> None:
    assert credit_line("A1", yuan(500_000), 0, DEFAULT_POLICY).limit == yuan(500_000)
    assert credit_line("G5", yuan(500_000), 0, DEFAULT_POLICY).limit == yuan(80_000)


def test_a_credit_line_under_the_minimum_loan_is_declined() -> None:
    line = credit_line("C1", yuan(3_000), yuan(1_000), DEFAULT_POLICY)
    assert (line.approved, line.limit, line.decline_code) == (
        False, 0, "credit_line_below_minimum"
    )  # fmt: skip
    assert not credit_line("A1", yuan(10_000), yuan(9_000), DEFAULT_POLICY).approved


@settings(max_examples=200, deadline=None)
@given(
    grade=st.sampled_from(SUB_GRADES),
    income=st.integers(1, yuan(200_000)),
    debt=st.integers(0, yuan(50_000)),
)
def test_an_approved_line_is_affordable_capped_whole_hundreds_and_at_least_the_minimum(
    grade: str, income: int, debt: int
) -> None:
    line = credit_line(grade, income, debt, DEFAULT_POLICY)
    if not line.approved:
        assert line.limit == 0
        return
    assert DEFAULT_POLICY.min_loan <= line.limit <= line.grade_cap
    assert line.limit % DEFAULT_POLICY.credit_line_step == 0
    assert level_payment(line.limit, line.benchmark_rate, 36) <= line.max_monthly_payment + 1


@pytest.mark.parametrize("field", ["dti_caps", "grade_credit_caps"])
def test_a_policy_missing_a_letter_grade_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match="need exactly"):
        RiskPolicy(**{field: {"A": 1}})  # type: ignore[arg-type]
