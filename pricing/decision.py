"""The credit decision the marketplace asks for: hard rules, score, grade, credit line, reasons."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pricing import reasons as catalogue
from pricing.applicant import UNKNOWN_STRUCTURE, Applicant, BureauFacts, LoanStructure
from pricing.credit_line import credit_line
from pricing.grades import grade_for_pd
from pricing.policy import RiskPolicy
from pricing.reasons import Reason
from pricing.scorecard import MAX_REASONS, Scorecard, score_applicant
from shared.money import format_cny


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one application; ``reasons`` are for the adverse-action notice."""

    approved: bool
    grade: str | None  # None when declined before or beyond grading
    pd: Decimal | None
    score: int | None
    credit_limit: int  # fen; 0 when declined
    reasons: tuple[Reason, ...]
    scorecard_version: str
    benchmark_rate: Decimal | None = None


def hard_rule_reasons(
    policy: RiskPolicy,
    *,
    age: Decimal | int | None,
    monthly_income: Decimal | int | None,
    has_write_off: bool | None,
) -> tuple[Reason, ...]:
    """Return the hard rules failed (no score can outweigh these), or (); a rule fires only on
    a value that is present, so a missing value never declines."""
    failed: list[Reason] = []
    if age is not None and age < policy.min_age:
        failed.append(catalogue.with_values(catalogue.UNDER_MIN_AGE, min_age=policy.min_age))
    if age is not None and age > policy.max_age:
        failed.append(catalogue.with_values(catalogue.OVER_MAX_AGE, max_age=policy.max_age))
    if has_write_off:
        failed.append(catalogue.WRITE_OFF)
    if monthly_income is not None and monthly_income <= 0:
        failed.append(catalogue.NO_INCOME)
    return tuple(failed)


def hard_decline_reasons(
    applicant: Applicant, bureau: BureauFacts, policy: RiskPolicy
) -> tuple[Reason, ...]:
    """Return the hard rules the applicant fails, or ()."""
    return hard_rule_reasons(
        policy,
        age=applicant.age,
        monthly_income=applicant.monthly_income,
        has_write_off=bureau.has_write_off,
    )


def decide(
    applicant: Applicant,
    bureau: BureauFacts,
    policy: RiskPolicy,
    scorecard: Scorecard,
    structure: LoanStructure = UNKNOWN_STRUCTURE,
) -> Decision:
    """Return an approval with grade and credit limit, or a decline with up to four reasons,
    scored with ``scorecard`` (the caller's scorecard in service: pricing loads none itself); the
    decision always names the scorecard version it used. The loan's structure is missing unless
    given (pre-approval)."""
    hard = hard_decline_reasons(applicant, bureau, policy)
    if hard:
        return Decision(False, None, None, None, 0, hard[:MAX_REASONS], scorecard.version)
    result = score_applicant(scorecard, applicant, bureau, structure)
    grade = grade_for_pd(result.pd, policy.grade_pd_ceilings)
    if grade is None:
        declined = (catalogue.SCORE_BELOW_CUTOFF, *result.reasons())[:MAX_REASONS]
        return Decision(False, None, result.pd, result.score, 0, declined, scorecard.version)
    line = credit_line(grade, applicant.monthly_income, applicant.existing_monthly_debt, policy)
    if not line.approved:
        too_small = catalogue.with_values(
            catalogue.CREDIT_LINE_BELOW_MINIMUM, min_loan=format_cny(policy.min_loan)
        )
        return Decision(
            False, grade, result.pd, result.score, 0,
            (too_small, *result.reasons())[:MAX_REASONS], scorecard.version, line.benchmark_rate,
        )  # fmt: skip
    return Decision(
        True, grade, result.pd, result.score, line.limit, result.reasons(), scorecard.version,
        line.benchmark_rate,
    )  # fmt: skip
