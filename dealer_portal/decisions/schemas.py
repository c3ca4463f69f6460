"""The lender's decision, stipulations, documents, counter-offers, contracts and insurance as
the API sends and receives them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StringConstraints

from dealer_portal.decisions.models import StipulationType
from marketplace.products.schemas import AnnualRate, Term
from pricing.loan_math import MAX_PRINCIPAL
from shared.schemas import RequestModel, ResponseModel

Reason = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$", to_lower=True)]


class StipulationRequest(RequestModel):
    type: StipulationType
    due_at: datetime | None = Field(
        default=None, description="when the document is due; 7 days from the decision if left out"
    )


class CounterTerms(RequestModel):
    amount: Annotated[int, Field(gt=0, le=MAX_PRINCIPAL, strict=True, description="fen")]
    term_months: Term
    annual_rate: AnnualRate


class DecisionRequest(RequestModel):
    """``approve``; ``conditions`` with ``stipulations``; ``counter`` with ``counter``;
    ``decline`` with ``reasons``."""

    decision: Literal["approve", "conditions", "counter", "decline"]
    stipulations: Annotated[list[StipulationRequest], Field(min_length=1, max_length=5)] | None = (
        None
    )
    counter: CounterTerms | None = None
    reasons: Annotated[list[Reason], Field(min_length=1, max_length=10)] | None = None


class StipulationReview(RequestModel):
    status: Literal["satisfied", "rejected"]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None


class CounterOfferAnswer(RequestModel):
    accept: StrictBool


class SignRequest(RequestModel):
    sms_code: Annotated[str, StringConstraints(min_length=4, max_length=12)]
    sha256: Sha256 = Field(description="SHA-256 (hex) of the contract PDF the buyer read")


class InsuranceRequest(RequestModel):
    insurer: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    policy_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    expires_on: date
    document_id: uuid.UUID
    # The policy's first beneficiary (第一受益人), as the policy names it: the lender's
    # registered name or unified social credit code. Funding waits until it is the lender.
    first_beneficiary: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class DocumentPublic(ResponseModel):
    id: uuid.UUID
    sha256: str
    stipulation_id: uuid.UUID | None
    content_type: str
    size: int
    uploader_role: str
    created_at: datetime


class StipulationPublic(ResponseModel):
    id: uuid.UUID
    type: str
    due_at: datetime
    overdue: bool
    status: str
    document_id: uuid.UUID | None
    reason: str | None
    reviewed_at: datetime | None


class CounterOfferPublic(ResponseModel):
    amount: int
    term_months: int
    annual_rate: Decimal
    apr: Decimal
    monthly_payment: int
    total_cost: int
    offered_at: datetime
    answer: Literal["accepted", "declined"] | None = None


class InsurancePublic(ResponseModel):
    insurer: str
    policy_number: str
    expires_on: date
    document_id: uuid.UUID
    first_beneficiary: str | None = None


class DecisionPublic(ResponseModel):
    """Where a deal on a product that does not auto-fund stands: the lender's decision and its
    clock, the stipulations, a counter-offer, the signed contract — and what the handover still
    waits for (``decision``, ``contract_signed``, ``down_payment``)."""

    status: str
    due_at: datetime | None
    overdue: bool
    decided_at: datetime | None
    reasons: list[str]
    counter_offer: CounterOfferPublic | None
    stipulations: list[StipulationPublic]
    contract_signed_at: datetime | None
    contract_sha256: str | None
    insurance: InsurancePublic | None
    handover_waits_for: list[str]


class DecisionDeal(ResponseModel):
    """A deal as its lender and its buyer see it: the car, the terms and the decision."""

    id: uuid.UUID
    status: str
    dealer_id: uuid.UUID
    dealer_name: str
    lender_id: uuid.UUID
    lender_name: str
    loan_id: uuid.UUID | None
    buyer_name_masked: str
    vin: str
    make: str
    model: str
    vehicle_type: str
    car_price: int
    down_payment: int
    down_payment_status: str
    principal: int
    term_months: int
    annual_rate: Decimal
    apr: Decimal
    monthly_payment: int
    grade: str
    ltv: Decimal
    max_counter_rate: Decimal = Field(
        description="the highest annual rate a counter-offer may carry: the locked offer's rate "
        "or the grade's fair band, whichever is lower"
    )
    confirmed_at: datetime | None
    decision: DecisionPublic
    documents: list[DocumentPublic]


class SignedContract(ResponseModel):
    signed_at: datetime
    sha256: str
