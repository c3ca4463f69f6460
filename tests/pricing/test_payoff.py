"""Due dates and early payoff."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.errors import PricingInputError
from pricing.loan_math import quote_loan
from pricing.payoff import due_dates, payoff_quote

SCHEDULE = quote_loan(10_000_000, Decimal("0.06"), 12).schedule
LOAN_DATE = date(2025, 1, 31)


def test_instalments_fall_due_monthly_on_the_loan_day_clamped_to_month_end() -> None:
    assert due_dates(LOAN_DATE, 4) == (
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
        date(2025, 5, 31),
    )
    assert due_dates(date(2023, 12, 31), 2) == (date(2024, 1, 31), date(2024, 2, 29))
    assert due_dates(date(2025, 11, 15), 3)[-1] == date(2026, 2, 15)


def test_paying_off_on_the_loan_date_costs_only_the_principal() -> None:
    quote = payoff_quote(LOAN_DATE, SCHEDULE, set(), LOAN_DATE)
    assert (quote.amount, quote.principal, quote.interest) == (10_000_000, 10_000_000, 0)


def test_paying_off_on_a_due_date_equals_that_instalment_plus_the_remaining_balance() -> None:
    due = due_dates(LOAN_DATE, 12)
    quote = payoff_quote(LOAN_DATE, SCHEDULE, {1, 2}, due[2])
    assert quote.amount == SCHEDULE[2].payment + SCHEDULE[2].balance
    assert quote.interest == SCHEDULE[2].interest


def test_interest_accrues_by_days_elapsed_in_the_current_period() -> None:
    due = due_dates(LOAN_DATE, 12)  # period 2 runs 28 Feb → 31 Mar: 31 days
    quote = payoff_quote(LOAN_DATE, SCHEDULE, {1}, date(2025, 3, 14))
    assert quote.principal == SCHEDULE[0].balance
    assert quote.interest == round(SCHEDULE[1].interest * 14 / 31)
    assert due[1] == date(2025, 3, 31)


def test_overdue_instalments_are_owed_in_full_and_fees_are_added() -> None:
    quote = payoff_quote(LOAN_DATE, SCHEDULE, set(), date(2025, 3, 31), fees_due=5_000)
    assert quote.interest == SCHEDULE[0].interest + SCHEDULE[1].interest
    assert quote.fees == 5_000
    assert quote.amount == quote.principal + quote.interest + 5_000


def test_a_fully_paid_loan_costs_nothing_to_close() -> None:
    paid = {row.n for row in SCHEDULE}
    assert payoff_quote(LOAN_DATE, SCHEDULE, paid, date(2026, 6, 1)).amount == 0


def test_a_payoff_date_before_the_loan_is_refused() -> None:
    with pytest.raises(PricingInputError) as raised:
        payoff_quote(LOAN_DATE, SCHEDULE, set(), date(2025, 1, 1))
    assert raised.value.field == "on"


@settings(max_examples=200, deadline=None)
@given(paid_count=st.integers(min_value=0, max_value=12), days=st.integers(0, 500))
def test_payoff_never_exceeds_paying_every_remaining_instalment(paid_count: int, days: int) -> None:
    paid = set(range(1, paid_count + 1))
    on = date.fromordinal(LOAN_DATE.toordinal() + days)
    quote = payoff_quote(LOAN_DATE, SCHEDULE, paid, on)
    remaining = [row for row in SCHEDULE if row.n not in paid]
    assert quote.principal == sum(row.principal for row in remaining)
    assert 0 <= quote.interest <= sum(row.interest for row in remaining)
    assert quote.amount <= sum(row.payment for row in remaining)
