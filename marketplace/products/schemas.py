"""A lender's product as lenders send it and read it back."""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from marketplace.products.models import ProductStatus
from pricing import DEFAULT_POLICY, SUB_GRADES, RepaymentMethod, VehicleType
from pricing.collections import MAX_REMINDER_DAYS_BEFORE, LateFeeKind
from pricing.loan_math import MAX_PRINCIPAL, MAX_TERM_MONTHS, MIN_TERM_MONTHS
from shared.brands.schemas import BrandInput
from shared.schemas import RequestModel, ResponseModel

H = TypeVar("H", bound=Hashable)


def _unique(values: list[H]) -> list[H]:
    if len(set(values)) != len(values):
        raise ValueError("values must not repeat")
    return values


def _sub_grade(grade: str) -> str:
    if grade not in SUB_GRADES:
        raise ValueError("not a platform sub-grade (A1…G5)")
    return grade


# Offers store rates with 6 decimals, so a product may not carry more.
AnnualRate = Annotated[
    Decimal, Field(ge=0, le=DEFAULT_POLICY.legal_cap_apr, allow_inf_nan=False, decimal_places=6)
]
Ratio = Annotated[Decimal, Field(allow_inf_nan=False, decimal_places=4)]
Amount = Annotated[StrictInt, Field(gt=0, le=MAX_PRINCIPAL, description="fen")]
Term = Annotated[StrictInt, Field(ge=MIN_TERM_MONTHS, le=MAX_TERM_MONTHS)]
ProductName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Terms = Annotated[list[Term], Field(min_length=1), AfterValidator(_unique)]
MaxLtv = Annotated[Ratio, Field(gt=0, le=1)]
MinDownPaymentRatio = Annotated[Ratio, Field(ge=0, lt=1)]
# Days after funding the dealer has to register the car as the lender's collateral (抵押登记).
CollateralDays = Annotated[StrictInt, Field(ge=1, le=365)]
UpfrontFee = Annotated[StrictInt, Field(ge=0, description="fen; below min_amount")]
DealerFee = Annotated[
    StrictInt,
    Field(
        ge=0, description="fen the lender keeps from the dealer's disbursement; below min_amount"
    ),
]
SubGrade = Annotated[
    str, AfterValidator(_sub_grade), Field(json_schema_extra={"pattern": "^[A-G][1-5]$"})
]
RateCard = Annotated[
    dict[SubGrade, AnnualRate],
    Field(min_length=1, examples=[{"A1": "0.0459", "B1": "0.0689"}]),
]
VehicleTypes = Annotated[list[VehicleType], Field(min_length=1), AfterValidator(_unique)]


class SubsidyTerms(RequestModel):
    """A manufacturer's subsidised rate (厂商贴息) for cars of these brands (and these only)."""

    brands: Annotated[list[BrandInput], Field(min_length=1, max_length=20)]
    annual_rate: AnnualRate


class AutoApprove(RequestModel):
    """Deals a product that does not auto-fund approves without a lender's decision: every
    limit given must hold (the loan amount, its loan-to-value, the car's grade)."""

    max_amount: Amount | None = None
    max_ltv: MaxLtv | None = None
    grades: Annotated[list[SubGrade], Field(min_length=1), AfterValidator(_unique)] | None = None


FundingGate = Literal["contract_signed", "stipulations", "insurance"]
DEFAULT_FUNDING_GATES: list[FundingGate] = ["contract_signed", "stipulations", "insurance"]
FundingGates = Annotated[list[FundingGate], AfterValidator(_unique)]


def _increasing(days: list[int]) -> list[int]:
    if any(later <= earlier for earlier, later in zip(days, days[1:], strict=False)):
        raise ValueError("retry days must increase")
    return days


class LateFeeSettings(RequestModel):
    """``percent_of_payment`` (``rate`` of the instalment, at most ``amount``) or ``flat``
    (``amount``), once per late instalment; or ``daily_rate`` (``rate`` of the overdue amount
    a day). Whatever is set, fees are capped so the loan's all-in APR stays under the legal cap."""

    kind: LateFeeKind
    rate: Annotated[Decimal, Field(ge=0, le=Decimal("0.2"), decimal_places=6)] | None = None
    amount: Annotated[StrictInt, Field(ge=0, le=10_000_000, description="fen")] | None = None


class CollectionSettings(RequestModel):
    """How the product collects; every field is optional (the platform's default otherwise)."""

    retry_days: (
        Annotated[
            list[Annotated[StrictInt, Field(ge=0, le=60)]],
            Field(min_length=1, max_length=8, examples=[[0, 1, 3, 7]]),
            AfterValidator(_increasing),
        ]
        | None
    ) = None
    reminder_days_before: Annotated[StrictInt, Field(ge=0, le=MAX_REMINDER_DAYS_BEFORE)] | None = (
        None
    )
    grace_days: Annotated[StrictInt, Field(ge=0, le=15)] | None = None
    late_fee: LateFeeSettings | None = None
    bureau_report_days: Annotated[StrictInt, Field(ge=1, le=180)] | None = None
    bureau_notice_days: Annotated[StrictInt, Field(ge=1, le=30)] | None = None
    charge_off_days: Annotated[StrictInt, Field(ge=30, le=720)] | None = None


class ProductTermsBase(BaseModel):
    """The terms of one product version; cross-field rules are checked by the service."""

    name: ProductName
    method: RepaymentMethod
    terms_months: Terms
    min_amount: Amount
    max_amount: Amount
    max_ltv: MaxLtv
    min_down_payment_ratio: MinDownPaymentRatio
    upfront_fee: UpfrontFee
    rate_card: RateCard
    vehicle_types: VehicleTypes
    subsidy: SubsidyTerms | None = None
    platform_guarantee: bool
    auto_fund: bool = True
    # Only for ``auto_fund: false``: deals approved without a lender's decision, and what must
    # hold before the lender may fund.
    auto_approve: AutoApprove | None = None
    funding_gates: FundingGates = Field(default_factory=lambda: list(DEFAULT_FUNDING_GATES))
    dealer_fee: DealerFee = 0
    collections: CollectionSettings | None = None
    collateral_days: CollateralDays = 60


class ProductCreate(ProductTermsBase, RequestModel):
    pass


class ProductUpdate(RequestModel):
    """The fields to change; those left out keep their current value."""

    name: ProductName | None = None
    method: RepaymentMethod | None = None
    terms_months: Terms | None = None
    min_amount: Amount | None = None
    max_amount: Amount | None = None
    max_ltv: MaxLtv | None = None
    min_down_payment_ratio: MinDownPaymentRatio | None = None
    upfront_fee: UpfrontFee | None = None
    rate_card: RateCard | None = None
    vehicle_types: VehicleTypes | None = None
    subsidy: SubsidyTerms | None = None
    platform_guarantee: bool | None = None
    auto_fund: bool | None = None
    auto_approve: AutoApprove | None = None
    funding_gates: FundingGates | None = None
    dealer_fee: DealerFee | None = None
    collections: CollectionSettings | None = None
    collateral_days: CollateralDays | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _only_subsidy_may_be_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in ("subsidy", "auto_approve", "collections"):
            raise ValueError("may be left out to keep its value, but not null")
        return value


class ProductVersionPublic(ProductTermsBase, ResponseModel):
    version: int
    created_at: datetime


class ProductPublic(ProductTermsBase, ResponseModel):
    """A product with the terms of its current version."""

    id: uuid.UUID
    lender_id: uuid.UUID
    status: ProductStatus
    version: int
    created_at: datetime
    updated_at: datetime


class ProductDetail(ProductPublic):
    versions: list[ProductVersionPublic]
