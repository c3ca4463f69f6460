"""The public loan calculator."""

from __future__ import annotations

from fastapi import APIRouter

from marketplace.calculator.schemas import CalculatorQuote, CalculatorRequest
from pricing import quote_loan
from shared.errors import Unprocessable, error_responses

router = APIRouter(prefix="/v1", tags=["calculator"])


@router.post("/calculator", responses=error_responses(Unprocessable))
async def calculate(body: CalculatorRequest) -> CalculatorQuote:
    """Quote a loan: the repayment schedule, its totals and its APR. No login needed.

    `monthly_payment` is the first instalment (equal-principal instalments then decline).
    `total_cost` is the cost of credit: all interest plus the upfront fee. `apr` is the
    IRR-based nominal annual rate of the borrower's actual cash flows, fees included: the
    borrower receives `principal − upfront_fee` at month 0 and pays each instalment at month n;
    `apr` is 12 × the monthly rate that discounts those payments to what was received (China's
    annualised-rate disclosure; Reg Z's actuarial APR). `effective_annual_rate` compounds that
    monthly rate over a year. Amounts are integer fen, rates decimal fractions.
    """
    # On the event loop: a quote is well under a millisecond of Decimal arithmetic, less than
    # the hop to a worker thread that a plain `def` would cost (measured in bench/http.py).
    # A PricingInputError answers 422 naming the field (``refusals.invalid_input``, once).
    quote = quote_loan(
        body.principal, body.annual_rate, body.term_months, body.method, body.upfront_fee
    )
    return CalculatorQuote.model_validate(quote)
