"""Loans, repayments and the lender's portfolio as the API shows them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from shared.schemas import RequestModel, ResponseModel


class InstallmentPublic(ResponseModel):
    n: int
    due_date: date
    payment: int
    principal: int
    interest: int
    status: Literal["due", "paid", "late"]
    paid_at: datetime | None
    late_fee: int
    paid_amount: int = Field(description="Paid towards principal and interest so far.")
    late_fee_paid: int
    amount_due: int = Field(description="What settles this instalment now, late fee included.")


class Party(BaseModel):
    id: uuid.UUID
    name: str


class LoanSummary(ResponseModel):
    id: uuid.UUID
    status: Literal["pending_funding", "active", "paid_off", "charged_off", "cancelled"]
    principal: int
    annual_rate: Decimal
    apr: Decimal
    term_months: int
    method: str
    upfront_fee: int
    monthly_payment: int
    grade: str
    days_past_due: int
    bucket: str
    lender: Party
    dealer: Party | None
    vehicle: dict[str, Any]
    loan_date: date
    platform_guarantee: bool
    auto_fund: bool
    outstanding_principal: int
    balance: int = Field(description="Everything owed now: principal, interest due and fees.")
    next_due_date: date | None
    funded_at: datetime | None
    closed_at: datetime | None
    created_at: datetime


class LoanDetail(LoanSummary):
    schedule: list[InstallmentPublic]


class PaymentMethodCreate(RequestModel):
    payment_method: Annotated[
        str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]+$", max_length=255)
    ] = Field(examples=["pm_card_visa"], description="A payment method id from Stripe.js.")


class PaymentMethodPublic(BaseModel):
    payment_method_id: str
    card_brand: str | None
    card_last4: str | None


class PaymentCreate(RequestModel):
    """Exactly one of: the next ``installments`` unpaid instalments, or ``payoff: true``."""

    installments: int | None = Field(default=None, ge=1, le=84)
    payoff: Literal[True] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.installments is None) == (self.payoff is None):
            raise ValueError("send exactly one of installments or payoff: true")
        return self


class PaymentPublic(BaseModel):
    payment_id: uuid.UUID
    payment_intent_id: str
    amount: int
    status: str


class PayoffPublic(BaseModel):
    on: date
    amount: int
    principal: int
    interest: int
    fees: int


class GradePerformance(BaseModel):
    grade: str
    count: int = Field(description="Loans booked (cancelled ones excluded).")
    active: int
    paid_off: int
    charged_off: int
    outstanding_balance: int = Field(description="Owed on active loans, by the ledger.")
    buckets: dict[str, int] = Field(description="Active loans by days past due.")
    default_rate: Decimal = Field(description="Charged off ÷ count.")
    guaranteed_outstanding: int = Field(
        description="Outstanding balance on platform-guaranteed products: the platform's exposure."
    )
    predicted_default_rate: Decimal = Field(
        description="Mean 12-month PD the platform predicted for these loans at booking."
    )
    loans_a_year_on_book: int = Field(description="Loans booked at least 12 months ago.")
    realised_default_rate: Decimal | None = Field(
        description="Of the loans a year on book: charged off or over 90 days past due within "
        "12 months of booking (null until one is a year on book)."
    )


class Portfolio(BaseModel):
    grades: list[GradePerformance]
    count: int
    outstanding_balance: int
    charged_off: int
    default_rate: Decimal
    platform_guarantee_exposure: int
    guarantee_claims_count: int = Field(
        default=0, description="Charged-off loans on which the platform's guarantee paid you."
    )
    guarantee_claims_paid: int = Field(default=0, description="What those claims paid (fen).")
    guarantee_reserve: int = Field(
        default=0,
        description="The platform's reserve held against your guaranteed loans: provisioned, "
        "less claims paid, plus recoveries.",
    )
