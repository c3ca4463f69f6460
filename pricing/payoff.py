"""Due dates and early payoff of a booked loan.

The first instalment is due one month after the loan date and every later one a whole number of
months after the loan date itself (same day of month, clamped to the month's end: a loan of 31
January is due 28/29 February, 31 March, 30 April …). There is no broken first period, so a loan's
schedule is exactly the calculator's schedule for the same terms.

Accrued interest uses the days-in-period convention: in the period that contains the payoff date,
the borrower owes that instalment's scheduled interest × days elapsed / days in the period. It
agrees with the schedule on every due date (a 365-day count would not, because the schedule
charges annual_rate/12 each month whatever the month's length).
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pricing.errors import PricingInputError
from pricing.loan_math import ScheduleRow
from shared.money import round_fen


@dataclass(frozen=True, slots=True)
class PayoffQuote:
    """What closes the loan on one date; ``amount = principal + interest + fees``."""

    on: date
    amount: int
    principal: int
    interest: int
    fees: int


def add_months(start: date, months: int) -> date:
    """Return the same day ``months`` later, clamped to the last day of a shorter month."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_dates(loan_date: date, term_months: int) -> tuple[date, ...]:
    """Return the due date of instalments 1…term_months: n months after the loan date."""
    if term_months < 1:
        raise PricingInputError("term_months", "term_months must be at least 1")
    return tuple(add_months(loan_date, n) for n in range(1, term_months + 1))


def payoff_quote(
    loan_date: date,
    schedule: Sequence[ScheduleRow],
    paid_instalments: Collection[int],
    on: date,
    fees_due: int = 0,
) -> PayoffQuote:
    """Return the amount that closes the loan on ``on``: every unpaid instalment's principal, the
    full interest of unpaid instalments already due, interest accrued in the current period, and
    ``fees_due`` (late fees the servicer has charged)."""
    if on < loan_date:
        raise PricingInputError("on", "the payoff date cannot be before the loan date")
    if fees_due < 0:
        raise PricingInputError("fees_due", "fees_due cannot be negative")
    unknown = set(paid_instalments) - {row.n for row in schedule}
    if unknown:
        raise PricingInputError("paid_instalments", f"no such instalments: {sorted(unknown)}")
    dues = due_dates(loan_date, len(schedule))
    starts = (loan_date, *dues[:-1])
    principal = interest = 0
    for row, start, due in zip(schedule, starts, dues, strict=True):
        if row.n in paid_instalments:
            continue
        principal += row.principal
        if due <= on:
            interest += row.interest
        elif start < on:
            elapsed, period = (on - start).days, (due - start).days
            interest += round_fen(Decimal(row.interest) * elapsed / period)
    return PayoffQuote(
        on=on,
        amount=principal + interest + fees_due,
        principal=principal,
        interest=interest,
        fees=fees_due,
    )
