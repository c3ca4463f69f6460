"""The risk policy: every number an admin may tune, with the defaults the platform starts with.

Where the defaults come from is explained in ``pricing/README.md``; in short, a China-funded
auto-finance lender's cost of funds near the 1-year LPR, an LGD for a loan secured by a car, and
a PD ladder shaped like LendingClub's sub-grades, kept under the 24 % APR cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from pricing.grades import GRADE_LETTERS, validate_pd_ceilings
from pricing.loan_math import MAX_TERM_MONTHS
from pricing.products import VehicleType
from shared.money import yuan

# Upper PD bound of each sub-grade, in percent, A1…G5. The steps widen down the ladder (0.25 pp
# in A, ~2.5 pp in G) because default risk compounds: the gap between two subprime borrowers is
# wider in PD terms than between two prime ones, while each step stays a few score points wide.
_DEFAULT_PD_CEILINGS_PERCENT = (
    "0.50", "0.75", "1.00", "1.25", "1.50",
    "1.85", "2.20", "2.60", "3.00", "3.50",
    "4.00", "4.60", "5.20", "5.90", "6.60",
    "7.40", "8.20", "9.10", "10.0", "11.0",
    "12.0", "13.2", "14.4", "15.7", "17.0",
    "18.5", "20.0", "21.6", "23.2", "25.0",
    "27.0", "29.0", "31.2", "34.0", "37.5",
)  # fmt: skip


def _frozen(values: Mapping[str, Decimal]) -> Mapping[str, Decimal]:
    return MappingProxyType(dict(values))


def _frozen_fen(values: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class RiskPolicy:
    """Grade cut-offs, pricing inputs, caps and limits; all rates are annual fractions."""

    # Fair pricing: benchmark = cost_of_funds + annual loss × LGD(vehicle type) + servicing_cost
    # + margin, the annual loss being the default intensity a 12-month PD implies (−ln(1 − PD)).
    cost_of_funds: Decimal = Decimal("0.030")
    # Loss given default by vehicle type: a repossessed new car resells for more of the balance
    # than a used one (older, thinner auction market, more disputes over condition).
    lgd_by_vehicle_type: Mapping[str, Decimal] = field(
        default_factory=lambda: _frozen({"new": Decimal("0.40"), "used": Decimal("0.55")})
    )
    servicing_cost: Decimal = Decimal("0.008")
    margin: Decimal = Decimal("0.006")
    fairness_band: Decimal = Decimal("0.03")  # how far above the benchmark a rate may still be
    legal_cap_apr: Decimal = Decimal("0.24")
    grade_pd_ceilings: tuple[Decimal, ...] = tuple(
        Decimal(p) / 100 for p in _DEFAULT_PD_CEILINGS_PERCENT
    )
    # Credit line, keyed by letter grade
    dti_caps: Mapping[str, Decimal] = field(
        default_factory=lambda: _frozen(
            {
                "A": Decimal("0.50"),
                "B": Decimal("0.45"),
                "C": Decimal("0.40"),
                "D": Decimal("0.35"),
                "E": Decimal("0.30"),
                "F": Decimal("0.25"),
                "G": Decimal("0.20"),
            }
        )
    )
    grade_credit_caps: Mapping[str, int] = field(
        default_factory=lambda: _frozen_fen(
            {
                "A": yuan(500_000),
                "B": yuan(400_000),
                "C": yuan(300_000),
                "D": yuan(200_000),
                "E": yuan(150_000),
                "F": yuan(100_000),
                "G": yuan(80_000),
            }
        )
    )
    min_loan: int = yuan(20_000)
    credit_line_step: int = yuan(100)  # lines are whole ¥100, rounded down
    reference_term_months: int = 36
    used_car_max_term_months: int = 36
    # The worst structure any deal may have: a pre-approval (no car yet) is graded as if the car
    # were financed this way, so a real car can only earn a better grade, never a worse one.
    max_ltv: Decimal = Decimal("1")
    max_term_months: int = MAX_TERM_MONTHS
    validity_days: int = 45
    # Offers a pre-approval keeps (``matching.shortlist``): the cheapest this many, and as many
    # for each vehicle type from products any brand may use; 0 keeps every offer.
    offers_kept: int = 20
    # Hard rules
    min_age: int = 18
    max_age: int = 70

    def __post_init__(self) -> None:
        validate_pd_ceilings(self.grade_pd_ceilings)
        if set(self.dti_caps) != set(GRADE_LETTERS) or set(self.grade_credit_caps) != set(
            GRADE_LETTERS
        ):
            raise ValueError(f"dti_caps and grade_credit_caps need exactly {GRADE_LETTERS}")
        rates = (self.cost_of_funds, self.servicing_cost, self.margin, self.fairness_band)
        if any(not rate.is_finite() or rate < 0 for rate in rates):
            raise ValueError("policy rates must be finite and non-negative")
        if set(self.lgd_by_vehicle_type) != set(VehicleType) or any(
            not lgd.is_finite() or not 0 <= lgd <= 1 for lgd in self.lgd_by_vehicle_type.values()
        ):
            raise ValueError("lgd_by_vehicle_type needs an LGD within [0, 1] for new and used")
        if not 0 < self.max_ltv <= 1:
            raise ValueError("max_ltv must be within (0, 1]")
        if not 0 < self.legal_cap_apr <= Decimal("0.36"):
            raise ValueError("legal_cap_apr must be within (0, 0.36]")
        if self.min_loan <= 0 or self.credit_line_step <= 0:
            raise ValueError("min_loan and credit_line_step must be positive")
        terms = (self.reference_term_months, self.used_car_max_term_months, self.max_term_months)
        if not all(1 <= term <= MAX_TERM_MONTHS for term in terms):
            raise ValueError("terms must be between 1 and 84 months")
        if not 0 < self.min_age <= self.max_age:
            raise ValueError("age limits must satisfy 0 < min_age <= max_age")
        if self.offers_kept < 0:
            raise ValueError("offers_kept must be 0 (every offer) or more")

    def lgd(self, vehicle_type: VehicleType | str) -> Decimal:
        """Return the loss given default of a loan on a car of ``vehicle_type``."""
        return self.lgd_by_vehicle_type[VehicleType(vehicle_type).value]


DEFAULT_POLICY = RiskPolicy()
