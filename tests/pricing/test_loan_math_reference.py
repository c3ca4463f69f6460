"""The lean schedule and IRR give exactly what the plain Decimal implementation they replaced
gave: the same schedule to the fen, and the same APR and effective annual rate to their 10
decimals (as far as the IRR's 1e-20 tolerance fixes them: see the last test).

The reference below is that implementation as it was (commit 600acf2), kept only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pricing.irr import annualise, solve_monthly_irr
from pricing.loan_math import (
    MAX_PRINCIPAL,
    RepaymentMethod,
    ScheduleRow,
    amortization_schedule,
    level_payment,
    quote_loan,
)
from shared.money import round_fen

_CONTEXT = Context(prec=42, rounding=ROUND_HALF_EVEN)
_TOLERANCE = Decimal("1e-20")


def reference_schedule(
    principal: int, annual_rate: Decimal, term_months: int, method: RepaymentMethod
) -> tuple[ScheduleRow, ...]:
    level = (
        level_payment(principal, annual_rate, term_months)
        if method is RepaymentMethod.EQUAL_INSTALLMENT
        else principal // term_months
    )
    rows: list[ScheduleRow] = []
    balance = principal
    with localcontext(_CONTEXT):
        for n in range(1, term_months + 1):
            interest = round_fen(balance * annual_rate / 12)
            if n == term_months:
                principal_part = balance
            elif method is RepaymentMethod.EQUAL_INSTALLMENT:
                principal_part = min(max(level - interest, 0), balance)
            else:
                principal_part = min(level, balance)
            balance -= principal_part
            rows.append(
                ScheduleRow(n, principal_part + interest, principal_part, interest, balance)
            )
    return tuple(rows)


def _reference_excess_and_slope(
    rate: Decimal, amount_received: int, payments: Sequence[int]
) -> tuple[Decimal, Decimal]:
    discount = 1 / (1 + rate)
    factor = discount
    present_value = Decimal(0)
    weighted = Decimal(0)
    for n, payment in enumerate(payments, start=1):
        if payment:
            discounted = payment * factor
            present_value += discounted
            weighted += n * discounted
        factor *= discount
    return present_value - amount_received, -weighted * discount


def reference_monthly_irr(amount_received: int, payments: Sequence[int], guess: Decimal) -> Decimal:
    with localcontext(_CONTEXT):
        low = Decimal(0)
        high: Decimal | None = None
        rate = guess
        for _ in range(200):
            excess, slope = _reference_excess_and_slope(rate, amount_received, payments)
            if excess == 0:
                return rate
            if excess > 0:
                low = rate
            else:
                high = rate
            candidate = rate - excess / slope
            if not (candidate > low and (high is None or candidate < high)):
                candidate = (low + high) / 2 if high is not None else low * 2 + Decimal("0.01")
            if abs(candidate - rate) < _TOLERANCE:
                return candidate
            rate = candidate
    raise ArithmeticError("IRR did not converge")


# Rates as the API takes them (up to 10 decimals), and as products store them (6).
api_rates = st.integers(min_value=0, max_value=36 * 10**8).map(lambda n: Decimal(n).scaleb(-10))
stored_rates = st.integers(min_value=0, max_value=360_000).map(lambda n: Decimal(n).scaleb(-6))


@settings(max_examples=2000, deadline=None)
@given(
    principal=st.integers(min_value=1, max_value=MAX_PRINCIPAL),
    rate=api_rates | stored_rates,
    term=st.integers(min_value=1, max_value=84),
    method=st.sampled_from(list(RepaymentMethod)),
)
@example(principal=1, rate=Decimal("0.36"), term=84, method=RepaymentMethod.EQUAL_INSTALLMENT)
@example(principal=100, rate=Decimal("0.06"), term=1, method=RepaymentMethod.EQUAL_PRINCIPAL)
@example(
    principal=MAX_PRINCIPAL, rate=Decimal("0.36"), term=84, method=RepaymentMethod.EQUAL_PRINCIPAL
)
def test_the_schedule_is_the_reference_schedule_to_the_fen(
    principal: int, rate: Decimal, term: int, method: RepaymentMethod
) -> None:
    assert amortization_schedule(principal, rate, term, method) == reference_schedule(
        principal, rate, term, method
    )


@settings(max_examples=1500, deadline=None)
@given(
    principal=st.integers(min_value=100, max_value=MAX_PRINCIPAL),
    rate=api_rates | stored_rates,
    term=st.integers(min_value=1, max_value=84),
    method=st.sampled_from(list(RepaymentMethod)),
    fee_per_mille=st.integers(min_value=0, max_value=999),
)
@example(
    principal=10_000_000,
    rate=Decimal("0.0599"),
    term=36,
    method=RepaymentMethod.EQUAL_INSTALLMENT,
    fee_per_mille=0,
)
@example(
    principal=10_000_000,
    rate=Decimal(0),
    term=84,
    method=RepaymentMethod.EQUAL_PRINCIPAL,
    fee_per_mille=999,
)
def test_the_apr_is_the_reference_apr_to_its_ten_decimals(
    principal: int, rate: Decimal, term: int, method: RepaymentMethod, fee_per_mille: int
) -> None:
    fee = principal * fee_per_mille // 1000
    quote = quote_loan(principal, rate, term, method, fee)
    payments = [row.payment for row in reference_schedule(principal, rate, term, method)]
    monthly = reference_monthly_irr(principal - fee, payments, rate / 12)
    apr, effective = annualise(monthly)
    assert quote.apr == apr
    # Both rates are within 1e-20 of the true one. That fixes (1 + i)^12 − 1 to 10 decimals
    # unless a fee of most of the principal makes i huge: then only to 12·(1 + i)^11·2e-20.
    if monthly < 1:
        assert quote.effective_annual_rate == effective
    else:
        spread = 12 * (1 + monthly) ** 11 * 2 * _TOLERANCE + Decimal("1e-10")
        assert abs(quote.effective_annual_rate - effective) <= spread
    assert abs(solve_monthly_irr(principal - fee, payments, rate / 12) - monthly) < 2 * _TOLERANCE
