"""Fair prices: the benchmark rate of each grade and whether a lender's rate is fair.

``benchmark = cost of funds + annual loss(PD) × LGD(vehicle type) + servicing cost + margin``.
PD is the midpoint of the grade's band: a calibrated 12-month PD. A rate is charged on the
outstanding balance, so the loss it must cover is the default *intensity* that PD implies,
``−ln(1 − PD)`` a year (a constant hazard; the same conversion the risk package uses to bring a
bad flag to 12 months): ≈ PD for good grades, steeper for poor ones (PD 35 % → 43 % a year). The
LGD depends on the car: a used car recovers less. A rate is fair when it is at most
``fairness_band`` above the benchmark and within the legal cap; the band bounds only from above,
so pricing below the benchmark (a subsidy, a cheap lender) is always fair.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal, localcontext

from pricing.grades import SUB_GRADES, pd_band
from pricing.policy import RiskPolicy
from pricing.products import VehicleType
from shared.money import round_rate

RATE_PLACES = 4  # benchmarks are quoted like rate cards: 0.0459 = 4.59 %
# With no car yet (a pre-approval's reference deal) a grade is priced as for a new car.
REFERENCE_VEHICLE_TYPE = VehicleType.NEW


@dataclass(frozen=True, slots=True)
class GradeBenchmark:
    """One rung of the grade ladder."""

    grade: str
    pd_lower: Decimal
    pd_upper: Decimal
    benchmark_rate: Decimal  # for a new car
    max_fair_rate: Decimal
    used_benchmark_rate: Decimal  # for a used car (higher LGD)
    used_max_fair_rate: Decimal


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


def annual_loss_rate(pd: Decimal) -> Decimal:
    """Return the yearly default intensity a 12-month PD implies, ``−ln(1 − PD)``: the share of
    a balance that defaults each year at a constant hazard."""
    with localcontext(Context(prec=34)) as context:
        return -context.ln(1 - pd)


def benchmark_rate(
    grade: str, policy: RiskPolicy, vehicle_type: VehicleType | str = REFERENCE_VEHICLE_TYPE
) -> Decimal:
    """Return the grade's benchmark annual rate (4 decimals) for a car of ``vehicle_type``:
    funding + expected loss + servicing + margin."""
    expected_loss = annual_loss_rate(representative_pd(grade, policy)) * policy.lgd(vehicle_type)
    rate = policy.cost_of_funds + expected_loss + policy.servicing_cost + policy.margin
    return round_rate(rate, RATE_PLACES)


def max_fair_rate(
    grade: str, policy: RiskPolicy, vehicle_type: VehicleType | str = REFERENCE_VEHICLE_TYPE
) -> Decimal:
    """Return the highest annual rate that is fair for ``grade`` on a car of ``vehicle_type``."""
    return min(
        benchmark_rate(grade, policy, vehicle_type) + policy.fairness_band, policy.legal_cap_apr
    )


def assess_rate(
    annual_rate: Decimal,
    grade: str,
    policy: RiskPolicy,
    apr: Decimal | None = None,
    vehicle_type: VehicleType | str = REFERENCE_VEHICLE_TYPE,
) -> Fairness:
    """Return whether ``annual_rate`` (the rate card's rate, without fees) is fair for ``grade``
    on a car of ``vehicle_type`` and, when given, whether the offer's fee-inclusive ``apr`` is
    within the legal cap."""
    benchmark = benchmark_rate(grade, policy, vehicle_type)
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
                grade,
                lower,
                upper,
                benchmark_rate(grade, policy, VehicleType.NEW),
                max_fair_rate(grade, policy, VehicleType.NEW),
                benchmark_rate(grade, policy, VehicleType.USED),
                max_fair_rate(grade, policy, VehicleType.USED),
            )
        )
    return tuple(ladder)
