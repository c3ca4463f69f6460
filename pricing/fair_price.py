"""Fair prices: the benchmark rate of each grade and whether a lender's rate is fair.

``benchmark = cost of funds + PD × LGD + servicing cost + margin``, where PD is the midpoint of the
grade's band (a 12-month PD, so PD × LGD is already an annual expected loss). A rate is fair when
it is at most ``fairness_band`` above the benchmark and within the legal cap; the band bounds only
from above, so pricing below the benchmark (a subsidy, a cheap lender) is always fair.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pricing.grades import SUB_GRADES, pd_band
from pricing.policy import RiskPolicy
from shared.money import round_rate

RATE_PLACES = 4  # benchmarks are quoted like rate cards: 0.0459 = 4.59 %


@dataclass(frozen=True, slots=True)
class GradeBenchmark:
    """One rung of the grade ladder."""

    grade: str
    pd_lower: Decimal
    pd_upper: Decimal
    benchmark_rate: Decimal
    max_fair_rate: Decimal


@dataclass(frozen=True, slots=True)
class Fairness:
    """Whether a rate may be offered to a grade; ``code`` says which limit failed."""

    fair: bool
    # None, "rate_above_fair_band", "rate_above_legal_cap" or "apr_above_legal_cap"
    code: str | None
    benchmark_rate: Decimal
    max_fair_rate: Decimal


def representative_pd(grade: str, policy: RiskPolicy) -> Decimal:
    """Return the PD a grade is priced at: the midpoint of its band."""
    lower, upper = pd_band(grade, policy.grade_pd_ceilings)
    return (lower + upper) / 2


def benchmark_rate(grade: str, policy: RiskPolicy) -> Decimal:
    """Return the grade's benchmark annual rate (4 decimals): funding + expected loss + servicing
    + margin."""
    expected_loss = representative_pd(grade, policy) * policy.lgd
    rate = policy.cost_of_funds + expected_loss + policy.servicing_cost + policy.margin
    return round_rate(rate, RATE_PLACES)


def max_fair_rate(grade: str, policy: RiskPolicy) -> Decimal:
    """Return the highest annual rate that is fair for ``grade``."""
    return min(benchmark_rate(grade, policy) + policy.fairness_band, policy.legal_cap_apr)


def assess_rate(
    annual_rate: Decimal, grade: str, policy: RiskPolicy, apr: Decimal | None = None
) -> Fairness:
    """Return whether ``annual_rate`` (the rate card's rate, without fees) is fair for ``grade``
    and, when given, whether the offer's fee-inclusive ``apr`` is within the legal cap."""
    benchmark = benchmark_rate(grade, policy)
    ceiling = min(benchmark + policy.fairness_band, policy.legal_cap_apr)
    code: str | None = None
    if annual_rate > policy.legal_cap_apr:
        code = "rate_above_legal_cap"
    elif annual_rate > ceiling:
        code = "rate_above_fair_band"
    elif apr is not None and apr > policy.legal_cap_apr:
        code = "apr_above_legal_cap"
    return Fairness(code is None, code, benchmark, ceiling)


def benchmark_ladder(policy: RiskPolicy) -> tuple[GradeBenchmark, ...]:
    """Return every sub-grade's PD band and benchmark, A1 first."""
    ladder = []
    for grade in SUB_GRADES:
        lower, upper = pd_band(grade, policy.grade_pd_ceilings)
        ladder.append(
            GradeBenchmark(
                grade, lower, upper, benchmark_rate(grade, policy), max_fair_rate(grade, policy)
            )
        )
    return tuple(ladder)
