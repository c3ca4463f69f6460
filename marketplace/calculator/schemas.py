"""The loan calculator's request and answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, StrictInt

from pricing import RepaymentMethod
from pricing.loan_math import MAX_ANNUAL_RATE, MAX_PRINCIPAL, MAX_TERM_MONTHS, MIN_TERM_MONTHS
from shared.schemas import RequestModel, ResponseModel

# Ten decimals is the precision every published rate carries (see pricing.irr.RATE_PLACES).
AnnualRate = Annotated[
    Decimal, Field(ge=0, le=MAX_ANNUAL_RATE, allow_inf_nan=False, decimal_places=10)
]


class CalculatorRequest(RequestModel):
    principal: Annotated[StrictInt, Field(gt=0, le=MAX_PRINCIPAL, description="fen")]
    annual_rate: Annotated[AnnualRate, Field(examples=["0.0599"])]
    term_months: Annotated[StrictInt, Field(ge=MIN_TERM_MONTHS, le=MAX_TERM_MONTHS)]
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT
    upfront_fee: Annotated[
        StrictInt, Field(ge=0, description="fen, paid out of the principal; below it")
    ] = 0


class ScheduleRowPublic(ResponseModel):
    n: int
    payment: int
    principal: int
    interest: int
    balance: int


class CalculatorQuote(ResponseModel):
    principal: int
    annual_rate: Decimal
    term_months: int
    method: RepaymentMethod
    upfront_fee: int
    amount_received: int
    monthly_payment: int
    schedule: list[ScheduleRowPublic]
    total_interest: int
    total_repayment: int
    total_cost: int
    apr: Decimal
    effective_annual_rate: Decimal
