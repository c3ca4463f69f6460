"""The credit line: how much an applicant of a grade can afford to borrow.

``max monthly payment = income × DTI cap(grade) − existing debt payments``, turned into principal
at the grade's benchmark rate over the reference term, capped per grade and rounded down to whole
¥100; a line under the minimum loan is no line at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pricing.fair_price import benchmark_rate
from pricing.grades import grade_letter
from pricing.loan_math import present_value_of_payment
from pricing.policy import RiskPolicy
from shared.money import floor_fen, round_down_to


@dataclass(frozen=True, slots=True)
class CreditLine:
    """A grade's affordable limit; ``limit`` is 0 when ``approved`` is False."""

    approved: bool
    grade: str
    limit: int
    max_monthly_payment: int
    affordable_principal: int
    grade_cap: int
    benchmark_rate: Decimal
    term_months: int
    decline_code: str | None = None  # "credit_line_below_minimum"


def credit_line(
    grade: str, monthly_income: int, existing_monthly_debt: int, policy: RiskPolicy
) -> CreditLine:
    """Return the line an applicant of ``grade`` can afford: the principal their spare monthly
    payment repays over the reference term, capped by grade, in whole ¥100, at least the minimum
    loan or declined."""
    letter = grade_letter(grade)
    rate = benchmark_rate(grade, policy)
    spare = floor_fen(monthly_income * policy.dti_caps[letter]) - existing_monthly_debt
    max_payment = max(spare, 0)
    affordable = present_value_of_payment(max_payment, rate, policy.reference_term_months)
    cap = policy.grade_credit_caps[letter]
    limit = round_down_to(min(affordable, cap), policy.credit_line_step)
    approved = limit >= policy.min_loan
    return CreditLine(
        approved=approved,
        grade=grade,
        limit=limit if approved else 0,
        max_monthly_payment=max_payment,
        affordable_principal=affordable,
        grade_cap=cap,
        benchmark_rate=rate,
        term_months=policy.reference_term_months,
        decline_code=None if approved else "credit_line_below_minimum",
    )
