"""Loan maths: exact schedules, APR as an IRR, and agreement with numpy-financial."""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal
from fractions import Fraction

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.errors import PricingInputError
from pricing.irr import solve_monthly_irr
from pricing.loan_math import (
    MAX_PRINCIPAL,
    RepaymentMethod,
    amortization_schedule,
    level_payment,
    present_value_of_payment,
    quote_loan,
)

principals = st.integers(min_value=1, max_value=MAX_PRINCIPAL)
realistic_principals = st.integers(min_value=100_000, max_value=MAX_PRINCIPAL)  # ¥1,000 and up
terms = st.integers(min_value=1, max_value=84)
rates = st.integers(min_value=0, max_value=3600).map(lambda bp: Decimal(bp) / 10_000)
methods = st.sampled_from(list(RepaymentMethod))


def test_a_textbook_equal_instalment_loan_matches_the_bank_figures() -> None:
    quote = quote_loan(10_000_000, Decimal("0.06"), 36)  # ¥100,000 at 6 % over 3 years
    assert quote.monthly_payment == 304_219  # ¥3,042.19, as every bank calculator shows
    assert [row.n for row in quote.schedule] == list(range(1, 37))
    assert quote.schedule[0].interest == 50_000
    assert quote.schedule[-1].balance == 0
    assert quote.total_cost == quote.total_interest


def test_equal_principal_repays_the_same_principal_every_month_and_interest_declines() -> None:
    schedule = amortization_schedule(12_000_000, Decimal("0.048"), 12, "equal_principal")
    assert {row.principal for row in schedule} == {1_000_000}
    interests = [row.interest for row in schedule]
    assert interests == sorted(interests, reverse=True)
    assert schedule[0].interest == 48_000  # ¥120,000 × 4.8 % / 12


def test_a_zero_rate_loan_has_no_interest_and_an_apr_of_zero() -> None:
    quote = quote_loan(10_000_000, Decimal(0), 36)
    assert quote.total_interest == 0
    assert sum(row.payment for row in quote.schedule) == 10_000_000
    assert quote.apr == 0
    assert quote.effective_annual_rate == 0


def test_a_zero_rate_loan_with_a_fee_still_has_a_positive_apr() -> None:
    quote = quote_loan(10_000_000, Decimal(0), 12, upfront_fee=200_000)
    assert quote.total_cost == 200_000
    assert Decimal("0.03") < quote.apr < Decimal("0.04")


def test_interest_rounds_a_true_half_fen_up() -> None:
    # ¥6.00 at 7 % for a month is exactly 3.5 fen; a rounded monthly rate would give 3.
    assert amortization_schedule(600, Decimal("0.07"), 1)[0].interest == 4


def test_an_upfront_fee_raises_the_apr_above_the_nominal_rate() -> None:
    without_fee = quote_loan(10_000_000, Decimal("0.06"), 36)
    with_fee = quote_loan(10_000_000, Decimal("0.06"), 36, upfront_fee=100_000)
    assert abs(without_fee.apr - Decimal("0.06")) < Decimal("1e-6")
    assert with_fee.apr > without_fee.apr
    assert with_fee.total_cost == with_fee.total_interest + 100_000
    assert with_fee.effective_annual_rate > with_fee.apr


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"principal": 0}, "principal"),
        ({"principal": MAX_PRINCIPAL + 1}, "principal"),
        ({"term_months": 0}, "term_months"),
        ({"term_months": 85}, "term_months"),
        ({"annual_rate": Decimal("-0.01")}, "annual_rate"),
        ({"annual_rate": Decimal("0.3601")}, "annual_rate"),
        ({"annual_rate": Decimal("NaN")}, "annual_rate"),
        ({"annual_rate": Decimal("Infinity")}, "annual_rate"),
        ({"upfront_fee": -1}, "upfront_fee"),
        ({"upfront_fee": 1_000_000}, "upfront_fee"),
        ({"method": "balloon"}, "method"),
    ],
)
def test_invalid_loan_terms_are_refused_naming_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {
        "principal": 1_000_000,
        "annual_rate": Decimal("0.05"),
        "term_months": 12,
        "method": "equal_installment",
        "upfront_fee": 0,
    }
    arguments.update(kwargs)
    with pytest.raises(PricingInputError) as raised:
        quote_loan(**arguments)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert isinstance(raised.value, ValueError)


@settings(max_examples=200, deadline=None)
@given(principal=principals, rate=rates, term=terms, method=methods)
def test_schedule_principal_sums_exactly_to_the_loan(
    principal: int, rate: Decimal, term: int, method: RepaymentMethod
) -> None:
    schedule = amortization_schedule(principal, rate, term, method)
    assert len(schedule) == term
    assert sum(row.principal for row in schedule) == principal
    assert schedule[-1].balance == 0
    balance = principal
    for row in schedule:
        assert min(row.payment, row.principal, row.interest, row.balance) >= 0
        assert row.payment == row.principal + row.interest
        assert row.balance == balance - row.principal
        exact = Fraction(balance) * Fraction(rate) / 12
        assert row.interest == math.floor(exact + Fraction(1, 2))  # half up, once per row
        balance = row.balance


@settings(max_examples=200, deadline=None)
@given(principal=realistic_principals, rate=rates, term=terms)
def test_equal_instalments_are_level_except_a_last_row_that_absorbs_the_rounding(
    principal: int, rate: Decimal, term: int
) -> None:
    schedule = amortization_schedule(principal, rate, term, RepaymentMethod.EQUAL_INSTALLMENT)
    level = level_payment(principal, rate, term)
    assert all(row.payment == level for row in schedule[:-1])
    # Each row's rounding (≤ ½ fen of payment, ≤ ½ fen of interest) compounds to the last row.
    monthly = rate / 12
    compounded = Decimal(term) if rate == 0 else ((1 + monthly) ** term - 1) / monthly
    assert abs(schedule[-1].payment - level) <= compounded


@settings(max_examples=200, deadline=None)
@given(principal=realistic_principals, rate=rates, term=terms)
def test_level_payment_agrees_with_numpy_financial_pmt_within_a_fen(
    principal: int, rate: Decimal, term: int
) -> None:
    expected = -npf.pmt(float(rate) / 12, term, principal)
    assert abs(level_payment(principal, rate, term) - expected) <= 1


@settings(max_examples=200, deadline=None)
@given(
    principal=realistic_principals,
    rate=rates,
    term=terms,
    method=methods,
    fee_share=st.integers(min_value=0, max_value=99),
)
def test_apr_agrees_with_numpy_financial_irr_on_the_same_cash_flows(
    principal: int, rate: Decimal, term: int, method: RepaymentMethod, fee_share: int
) -> None:
    fee = principal * fee_share // 1000  # up to 9.9 % of the loan
    quote = quote_loan(principal, rate, term, method, fee)
    flows = [principal - fee] + [-row.payment for row in quote.schedule]
    expected = float(npf.irr(flows)) * 12
    assert abs(float(quote.apr) - expected) < 1e-6
    assert quote.apr >= 0
    assert quote.total_cost == quote.total_interest + fee
    assert quote.monthly_payment == quote.schedule[0].payment


@settings(max_examples=100, deadline=None)
@given(
    principal=realistic_principals,
    rate=rates.filter(lambda r: r > 0),
    term=terms,
)
def test_apr_without_fees_agrees_with_numpy_financial_rate(
    principal: int, rate: Decimal, term: int
) -> None:
    quote = quote_loan(principal, rate, term)
    payment = quote.monthly_payment
    expected = float(npf.rate(term, -payment, principal, 0)) * 12
    # npf.rate assumes every payment is the level one; ours has a last row a few fen off.
    tolerance = 1e-6 + 12 * abs(quote.schedule[-1].payment - payment) / principal
    assert abs(float(quote.apr) - expected) < tolerance


@settings(max_examples=200, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=MAX_PRINCIPAL),
    payments=st.lists(st.integers(min_value=0, max_value=MAX_PRINCIPAL), min_size=1, max_size=84),
)
def test_the_irr_discounts_the_payments_back_to_the_amount_received(
    amount: int, payments: list[int]
) -> None:
    if sum(payments) < amount:
        payments[-1] += amount - sum(payments)
    monthly = solve_monthly_irr(amount, payments)
    present_value = sum(
        (p / (1 + monthly) ** n for n, p in enumerate(payments, start=1)), start=Decimal(0)
    )
    assert monthly >= 0
    assert abs(present_value - amount) <= Decimal("1e-9") * amount


def test_a_monthly_payment_buys_back_the_principal_it_was_computed_from() -> None:
    payment = level_payment(10_000_000, Decimal("0.06"), 36)
    principal = present_value_of_payment(payment, Decimal("0.06"), 36)
    assert abs(principal - 10_000_000) <= 36
    assert present_value_of_payment(100_000, Decimal(0), 36) == 3_600_000


def test_a_schedule_row_as_json_holds_every_field_of_the_row() -> None:
    quote = quote_loan(10_000_000, Decimal("0.0599"), 36, "equal_installment")
    for row in quote.schedule:
        assert row.as_dict() == dataclasses.asdict(row)
