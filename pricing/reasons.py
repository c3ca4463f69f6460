"""Reasons a decision gives, for the adverse-action notice: a stable code plus buyer text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason; ``code`` is stable for machines, ``en``/``zh`` are for the buyer."""

    code: str
    en: str
    zh: str


UNDER_MIN_AGE = Reason(
    "under_min_age",
    "You must be at least {min_age} years old to apply.",
    "申请人须年满{min_age}周岁。",
)
OVER_MAX_AGE = Reason(
    "over_max_age",
    "Applicants must be {max_age} years old or younger.",
    "申请人年龄不得超过{max_age}周岁。",
)
WRITE_OFF = Reason(
    "write_off_on_file",
    "Your credit report shows a debt written off by a lender.",
    "您的征信报告中有呆账（贷款核销）记录。",
)
NO_INCOME = Reason(
    "no_income",
    "We need a regular monthly income to lend to you.",
    "需要有稳定的月收入才能获得贷款。",
)
SCORE_BELOW_CUTOFF = Reason(
    "score_below_cutoff",
    "Your overall credit score is below the level we can lend at.",
    "您的综合信用评分低于可放款水平。",
)
CREDIT_LINE_BELOW_MINIMUM = Reason(
    "credit_line_below_minimum",
    "Your income after existing debt payments does not support the minimum loan of {min_loan}.",
    "扣除现有负债月供后，您的收入不足以支持最低贷款额{min_loan}。",
)


def with_values(reason: Reason, **values: object) -> Reason:
    """Return ``reason`` with its ``{placeholders}`` filled in, in both languages."""
    return Reason(reason.code, reason.en.format(**values), reason.zh.format(**values))
