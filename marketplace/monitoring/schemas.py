"""The monitoring report as the admin API and the command line show it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared.schemas import ResponseModel

BAD_DEFINITION = (
    "charged off, or an instalment more than 90 days past due, within 12 months of booking"
)


class GradeOutcome(ResponseModel):
    """Loans of one letter grade a full year on book: predicted against realised default."""

    grade: str
    loans: int
    bad: int
    realised_default_rate: Decimal
    predicted_default_rate: Decimal  # mean 12-month PD predicted at booking


class ScoreBandShare(ResponseModel):
    lower: int | None
    upper: int | None
    expected_share: Decimal  # of the development sample
    actual_share: Decimal  # of this month's applications


class ChallengerComparison(ResponseModel):
    """The shadow challenger beside the champion on this month's applications."""

    version: str
    applications: int
    mean_pd_champion: Decimal | None
    mean_pd_challenger: Decimal | None
    same_grade_letter: int  # both graded it the same letter
    approved_by_champion_only: int  # graded by the champion, declined by the challenger
    approved_by_challenger_only: int


class MonitorReportPublic(ResponseModel):
    as_of: date
    scorecard_version: str  # the champion whose scores the PSI is of
    bad_definition: str
    loans_booked: int
    loans_observed: int  # booked at least 12 months before as_of
    grades: list[GradeOutcome]
    total: GradeOutcome | None
    applications_scored: int  # this month, by the champion
    psi: Decimal | None  # None without development bands or applications
    stability: str  # stable | watch | shifted | no_data
    score_bands: list[ScoreBandShare]
    challenger: ChallengerComparison | None


class LadderRung(ResponseModel):
    """One sub-grade: its PD band, benchmark and fair ceiling for a new and a used car."""

    grade: str
    pd_lower: Decimal
    pd_upper: Decimal
    benchmark_rate_new: Decimal
    max_fair_rate_new: Decimal
    benchmark_rate_used: Decimal
    max_fair_rate_used: Decimal


class PolicyPublic(ResponseModel):
    """The risk policy in force, and the benchmark ladder it gives."""

    cost_of_funds: Decimal
    lgd_new: Decimal
    lgd_used: Decimal
    servicing_cost: Decimal
    margin: Decimal
    fairness_band: Decimal
    legal_cap_apr: Decimal
    max_ltv: Decimal
    max_term_months: int
    used_car_max_term_months: int
    reference_term_months: int
    validity_days: int
    min_loan: int
    benchmark: str  # the formula, in words
    ladder: list[LadderRung]
