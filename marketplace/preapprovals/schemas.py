from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from shared.brands.schemas import BrandInput
from shared.schemas import RequestModel, ResponseModel

Fen = Annotated[int, Field(strict=True)]


class OfferTerms(ResponseModel):
    """What one locked offer costs: the fields an offer and a dealer's quote of it share."""

    offer_id: uuid.UUID
    lender: str
    lender_id: uuid.UUID
    product: str
    product_id: uuid.UUID
    product_version: int
    grade: str | None = None  # the sub-grade the terms are priced at
    annual_rate: Decimal
    apr: Decimal
    term_months: int
    amount: int
    monthly_payment: int
    total_interest: int
    upfront_fee: int
    total_cost: int
    method: str
    subsidised: bool
    platform_guarantee: bool


class OfferPublic(OfferTerms):
    """One lender's offer, quoted for the buyer; ``offer_id`` is what a dealer's deal names."""

    rank: int
    why_eligible: list[str]
    rank_reason: str


class PreapprovalPublic(ResponseModel):
    id: uuid.UUID
    code: str
    status: str
    grade: str
    credit_limit: int
    expires_at: datetime
    created_at: datetime
    offers: list[OfferPublic]


class QuoteRequest(RequestModel):
    car_price: Annotated[int, Field(strict=True, gt=0, le=1_000_000_000)]
    down_payment: Annotated[int, Field(strict=True, ge=0)]
    term_months: Annotated[int, Field(strict=True, ge=1, le=84)]
    vehicle_type: Literal["new", "used"] = "new"
    brand: BrandInput | None = None


class ProductNotOffered(ResponseModel):
    """A locked offer that does not fit this car, and the rule it fails."""

    offer_id: uuid.UUID
    lender: str
    product: str
    code: str
    message: str
    field: str | None


class CarGrade(ResponseModel):
    """The grade this car's structure earns beside the pre-approval's (which assumed the worst
    structure): never worse; a better one prices the offers lower."""

    grade: str
    preapproval_grade: str
    pd: Decimal  # this car's 12-month probability of default
    summary: str  # "this car: B2; your pre-approval: B4"
    summary_zh: str


class QuoteResponse(ResponseModel):
    offers: list[OfferPublic]
    not_offered: list[ProductNotOffered]
    grade: CarGrade | None = None


class PreapprovalQr(ResponseModel):
    """The approval as a QR code for the dealer: a link to the dealer portal with the code
    filled in (the dealer still asks for the last four digits of the buyer's phone)."""

    code: str
    url: str
    qr_svg: str = Field(description="The URL as a QR code, a data:image/svg+xml URI.")
