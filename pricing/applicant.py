"""What the scorecard and the credit line know about an applicant, and the names a scorecard bins.

The original five declarations are required; the rest of the profile (marital status, employment
type, expenses, assets, dependents) is optional, ``None`` meaning *not given*: a scorecard scores a
missing value in the characteristic's missing bin. The loan's structure (LTV, term, down payment,
vehicle type) is unknown until there is a car, so it is missing at pre-approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pricing.errors import PricingInputError
from pricing.products import Deal, VehicleType

AttributeValue = int | Decimal | str | None


class Housing(StrEnum):
    """Where the applicant lives; owners and mortgagors are the most stable."""

    OWN = "own"
    MORTGAGE = "mortgage"
    RENT = "rent"
    FAMILY = "family"


class MaritalStatus(StrEnum):
    SINGLE = "single"
    MARRIED = "married"
    DIVORCED = "divorced"
    WIDOWED = "widowed"


class EmploymentType(StrEnum):
    SALARIED = "salaried"
    CIVIL_SERVANT = "civil_servant"
    SELF_EMPLOYED = "self_employed"
    FREELANCE = "freelance"
    PART_TIME = "part_time"
    RETIRED = "retired"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Applicant:
    """The applicant's own declaration; money in fen; ``None`` = not declared."""

    age: int
    monthly_income: int
    employment_months: int
    housing: Housing
    existing_monthly_debt: int
    marital_status: MaritalStatus | None = None
    employment_type: EmploymentType | None = None
    monthly_expenses: int | None = None
    assets: int | None = None
    dependents: int | None = None

    def __post_init__(self) -> None:
        for name in ("age", "monthly_income", "employment_months", "existing_monthly_debt"):
            _require_non_negative_int(name, getattr(self, name))
        for name in ("monthly_expenses", "assets", "dependents"):
            if getattr(self, name) is not None:
                _require_non_negative_int(name, getattr(self, name))
        _coerce(self, "housing", Housing)
        _coerce(self, "marital_status", MaritalStatus, optional=True)
        _coerce(self, "employment_type", EmploymentType, optional=True)


@dataclass(frozen=True, slots=True)
class BureauFacts:
    """What the credit bureau reports; ``revolving_utilisation`` is None with no revolving lines."""

    delinquencies_24m: int = 0
    worst_dpd: int = 0
    inquiries_6m: int = 0
    revolving_utilisation: Decimal | None = None
    credit_history_months: int = 0
    has_write_off: bool = False

    def __post_init__(self) -> None:
        for name in ("delinquencies_24m", "worst_dpd", "inquiries_6m", "credit_history_months"):
            _require_non_negative_int(name, getattr(self, name))
        utilisation = self.revolving_utilisation
        if utilisation is not None and (
            not isinstance(utilisation, Decimal) or not utilisation.is_finite() or utilisation < 0
        ):
            raise PricingInputError(
                "revolving_utilisation", "revolving_utilisation must be a non-negative decimal"
            )


@dataclass(frozen=True, slots=True)
class LoanStructure:
    """The deal's structure as a scorecard sees it; every part may be unknown (``None``)."""

    ltv: Decimal | None = None  # loan amount ÷ car price
    term_months: int | None = None
    down_payment_ratio: Decimal | None = None  # down payment ÷ car price
    vehicle_type: VehicleType | None = None

    @classmethod
    def of_deal(cls, deal: Deal) -> LoanStructure:
        """Return the structure of a buyer's deal on a real car."""
        price = Decimal(deal.car_price)
        return cls(
            ltv=deal.loan_amount / price,
            term_months=deal.term_months,
            down_payment_ratio=deal.down_payment / price,
            vehicle_type=deal.vehicle_type,
        )


UNKNOWN_STRUCTURE = LoanStructure()

# Attributes whose values are categories, with the categories allowed; every other is numeric.
CATEGORIES: dict[str, frozenset[str]] = {
    "housing": frozenset(Housing),
    "marital_status": frozenset(MaritalStatus),
    "employment_type": frozenset(EmploymentType),
    "vehicle_type": frozenset(VehicleType),
}
NUMERIC_ATTRIBUTES = frozenset(
    {
        "age",
        "monthly_income",
        "employment_months",
        "existing_monthly_debt",
        "debt_to_income",
        "monthly_expenses",
        "assets",
        "dependents",
        "delinquencies_24m",
        "worst_dpd",
        "inquiries_6m",
        "revolving_utilisation",
        "credit_history_months",
        "ltv",
        "term_months",
        "down_payment_ratio",
    }
)
ATTRIBUTE_NAMES = NUMERIC_ATTRIBUTES | frozenset(CATEGORIES)


def debt_to_income(applicant: Applicant) -> Decimal | None:
    """Return existing monthly debt payments ÷ monthly income, or None without income."""
    if applicant.monthly_income <= 0:
        return None
    return Decimal(applicant.existing_monthly_debt) / applicant.monthly_income


def attribute_values(
    applicant: Applicant, bureau: BureauFacts, structure: LoanStructure = UNKNOWN_STRUCTURE
) -> dict[str, AttributeValue]:
    """Return every attribute a scorecard may bin, by the name the scorecard file uses (None for
    a value that is missing)."""
    return {
        "age": applicant.age,
        "monthly_income": applicant.monthly_income,
        "employment_months": applicant.employment_months,
        "housing": applicant.housing.value,
        "existing_monthly_debt": applicant.existing_monthly_debt,
        "debt_to_income": debt_to_income(applicant),
        "marital_status": _category(applicant.marital_status),
        "employment_type": _category(applicant.employment_type),
        "monthly_expenses": applicant.monthly_expenses,
        "assets": applicant.assets,
        "dependents": applicant.dependents,
        "delinquencies_24m": bureau.delinquencies_24m,
        "worst_dpd": bureau.worst_dpd,
        "inquiries_6m": bureau.inquiries_6m,
        "revolving_utilisation": bureau.revolving_utilisation,
        "credit_history_months": bureau.credit_history_months,
        "ltv": structure.ltv,
        "term_months": structure.term_months,
        "down_payment_ratio": structure.down_payment_ratio,
        "vehicle_type": _category(structure.vehicle_type),
    }


def _category(value: StrEnum | None) -> str | None:
    return None if value is None else value.value


def _coerce(instance: object, name: str, kind: type[StrEnum], *, optional: bool = False) -> None:
    value = getattr(instance, name)
    if value is None and optional:
        return
    try:
        object.__setattr__(instance, name, kind(value))
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise PricingInputError(name, f"{name} must be one of {allowed}") from None


def _require_non_negative_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PricingInputError(name, f"{name} must be a non-negative whole number")
