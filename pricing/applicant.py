"""What the scorecard and the credit line know about an applicant."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pricing.errors import PricingInputError

AttributeValue = int | Decimal | str | None


class Housing(StrEnum):
    """Where the applicant lives; owners and mortgagors are the most stable."""

    OWN = "own"
    MORTGAGE = "mortgage"
    RENT = "rent"
    FAMILY = "family"


@dataclass(frozen=True, slots=True)
class Applicant:
    """The applicant's own declaration; money in fen."""

    age: int
    monthly_income: int
    employment_months: int
    housing: Housing
    existing_monthly_debt: int

    def __post_init__(self) -> None:
        for name in ("age", "monthly_income", "employment_months", "existing_monthly_debt"):
            _require_non_negative_int(name, getattr(self, name))
        try:
            object.__setattr__(self, "housing", Housing(self.housing))
        except ValueError:
            message = "housing must be own, mortgage, rent or family"
            raise PricingInputError("housing", message) from None


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


def debt_to_income(applicant: Applicant) -> Decimal | None:
    """Return existing monthly debt payments ÷ monthly income, or None without income."""
    if applicant.monthly_income <= 0:
        return None
    return Decimal(applicant.existing_monthly_debt) / applicant.monthly_income


def attribute_values(applicant: Applicant, bureau: BureauFacts) -> dict[str, AttributeValue]:
    """Return every attribute a scorecard may bin, by the name the scorecard file uses."""
    return {
        "age": applicant.age,
        "monthly_income": applicant.monthly_income,
        "employment_months": applicant.employment_months,
        "housing": applicant.housing.value,
        "existing_monthly_debt": applicant.existing_monthly_debt,
        "debt_to_income": debt_to_income(applicant),
        "delinquencies_24m": bureau.delinquencies_24m,
        "worst_dpd": bureau.worst_dpd,
        "inquiries_6m": bureau.inquiries_6m,
        "revolving_utilisation": bureau.revolving_utilisation,
        "credit_history_months": bureau.credit_history_months,
    }


ATTRIBUTE_NAMES = frozenset(
    {
        "age",
        "monthly_income",
        "employment_months",
        "housing",
        "existing_monthly_debt",
        "debt_to_income",
        "delinquencies_24m",
        "worst_dpd",
        "inquiries_6m",
        "revolving_utilisation",
        "credit_history_months",
    }
)


def _require_non_negative_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PricingInputError(name, f"{name} must be a non-negative whole number")
