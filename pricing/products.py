"""Loan products as lenders list them, and a buyer's deal on a real car (plain values)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pricing.errors import PricingInputError
from pricing.loan_math import MAX_TERM_MONTHS, MIN_TERM_MONTHS, RepaymentMethod


class VehicleType(StrEnum):
    """New cars from the 4S shop, or used cars (which get shorter terms)."""

    NEW = "new"
    USED = "used"


@dataclass(frozen=True, slots=True)
class Subsidy:
    """A manufacturer's interest subsidy (厂商贴息): a lower rate for cars of these brands."""

    brands: frozenset[str]
    annual_rate: Decimal

    def covers(self, brand: str | None) -> bool:
        """Return whether ``brand`` qualifies, ignoring case and surrounding spaces."""
        if brand is None:
            return False
        wanted = brand.strip().casefold()
        return any(wanted == listed.strip().casefold() for listed in self.brands)


@dataclass(frozen=True, slots=True)
class ProductTerms:
    """One version of a lender's product. ``commission_rate`` is what the platform earns; it is
    carried for accounting and must never influence which offers are shown or their order."""

    product_id: str
    version: int
    lender_id: str
    lender_name: str
    name: str
    method: RepaymentMethod
    terms_months: tuple[int, ...]
    min_amount: int
    max_amount: int
    max_ltv: Decimal
    min_down_payment_ratio: Decimal
    upfront_fee: int
    rate_card: Mapping[str, Decimal]
    vehicle_types: frozenset[VehicleType] = frozenset(VehicleType)
    subsidy: Subsidy | None = None
    platform_guarantee: bool = False
    commission_rate: Decimal = Decimal(0)
    capacity_remaining: int | None = None  # fen the lender can still fund; None = unlimited


@dataclass(frozen=True, slots=True)
class Deal:
    """A car and how the buyer wants to pay for it; money in fen."""

    car_price: int
    down_payment: int
    term_months: int
    vehicle_type: VehicleType = VehicleType.NEW
    brand: str | None = None

    def __post_init__(self) -> None:
        if not _is_int(self.car_price) or self.car_price <= 0:
            raise PricingInputError("car_price", "car_price must be a positive whole number of fen")
        if not _is_int(self.down_payment) or not 0 <= self.down_payment <= self.car_price:
            raise PricingInputError(
                "down_payment", "down_payment must be between 0 and the car price"
            )
        term = self.term_months
        if not _is_int(term) or not MIN_TERM_MONTHS <= term <= MAX_TERM_MONTHS:
            raise PricingInputError("term_months", "term_months must be between 1 and 84")
        try:
            object.__setattr__(self, "vehicle_type", VehicleType(self.vehicle_type))
        except ValueError:
            raise PricingInputError("vehicle_type", "vehicle_type must be new or used") from None

    @property
    def loan_amount(self) -> int:
        """Return what must be financed: the price less the down payment."""
        return self.car_price - self.down_payment


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
