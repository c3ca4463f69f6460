"""Score a mapped file with a ``pricing`` scorecard, and measure how well scores rank and how
well PDs match what happened."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from pricing.decision import hard_rule_reasons
from pricing.grades import GRADE_LETTERS, SUB_GRADES, grade_for_pd
from pricing.policy import DEFAULT_POLICY, RiskPolicy
from pricing.scorecard import Scorecard, score_values
from risk.calibration import pd_window_from_12, prior_correct
from risk.mapping import MappedData

DECLINED = "declined"
WELL_POPULATED_SHARE = 0.05  # a letter holding at least this share of rows is judged


def score_rows(
    scorecard: Scorecard,
    data: MappedData,
    policy: RiskPolicy = DEFAULT_POLICY,
) -> pd.DataFrame:
    """Return one row per input row, same order: ``score``, ``pd`` (12-month), ``grade``
    (``A1``…``G5`` or ``declined``) and ``declined_because`` (the hard rule or
    ``score_below_cutoff``; empty when graded). Every row is scored, declined or not."""
    scores: list[int] = []
    pds: list[Decimal] = []
    grades: list[str] = []
    because: list[str] = []
    for index in range(len(data.attributes)):
        values = data.row_values(index)
        result = score_values(scorecard, values)
        age, income = values.get("age"), values.get("monthly_income")
        hard = hard_rule_reasons(
            policy,
            age=age if isinstance(age, int | Decimal) else None,
            monthly_income=income if isinstance(income, int | Decimal) else None,
            has_write_off=bool(data.has_write_off.iat[index]),
        )
        grade = grade_for_pd(result.pd, policy.grade_pd_ceilings)
        scores.append(result.score)
        pds.append(result.pd)
        if hard:
            grades.append(DECLINED)
            because.append(hard[0].code)
        elif grade is None:
            grades.append(DECLINED)
            because.append("score_below_cutoff")
        else:
            grades.append(grade)
            because.append("")
    return pd.DataFrame(
        {"score": scores, "pd": [str(p) for p in pds], "grade": grades, "declined_because": because}
    )


def ranking_metrics(scores: pd.Series, bad: pd.Series) -> dict[str, float]:
    """Return AUC, Gini (2·AUC − 1) and KS (the widest gap between the cumulative score
    distributions of bads and goods) of scores where a higher score means safer."""
    labels = bad.to_numpy(dtype=float)
    values = scores.to_numpy(dtype=float)
    if labels.min() == labels.max():
        raise ValueError("need both goods and bads to measure ranking")
    auc = float(roc_auc_score(labels, -values))
    return {"auc": auc, "gini": 2 * auc - 1, "ks": ks_statistic(values, labels)}


def ks_statistic(scores: np.ndarray, bad: np.ndarray) -> float:
    """Return the Kolmogorov–Smirnov distance between the goods' and bads' score distributions."""
    thresholds = np.unique(scores)
    bads = np.sort(scores[bad == 1])
    goods = np.sort(scores[bad == 0])
    cdf_bad = np.searchsorted(bads, thresholds, side="right") / len(bads)
    cdf_good = np.searchsorted(goods, thresholds, side="right") / len(goods)
    return float(np.max(np.abs(cdf_bad - cdf_good)))


def expected_sample_bad_rate(
    pd_12: pd.Series,
    window_months: pd.Series,
    sample_bad_rate: float,
    population_bad_rate: float | None,
) -> pd.Series:
    """Return the bad rate each row's 12-month PD implies on the data: carried over the row's
    window (constant hazard), then back to the sample's prior when it was oversampled."""
    over_window = pd_window_from_12(
        pd_12.to_numpy(dtype=float), window_months.to_numpy(dtype=float)
    )
    if population_bad_rate is not None:
        over_window = prior_correct(over_window, population_bad_rate, sample_bad_rate)
    return pd.Series(over_window, index=pd_12.index)


@dataclass(frozen=True, slots=True)
class GradeRow:
    """How one grade (letter or sub-grade) did on a labelled file."""

    grade: str
    count: int
    share: float
    bads: int
    bad_rate: float
    mean_pd_12m: float
    expected_bad_rate: float  # the 12-month PDs carried to the data's windows and prior

    @property
    def judged(self) -> bool:
        """Return whether the grade holds enough rows for its bad rate to be judged."""
        return self.grade != DECLINED and self.share >= WELL_POPULATED_SHARE


def grade_table(
    scored: pd.DataFrame, bad: pd.Series, expected: pd.Series, *, by: str = "letter"
) -> list[GradeRow]:
    """Return count, bads, bad rate, mean 12-month PD and the expected bad rate on this data per
    grade letter (``by="letter"``) or sub-grade (``by="sub_grade"``), best first, then the
    declined rows."""
    frame = pd.DataFrame(
        {
            "grade": scored["grade"].to_numpy(),
            "bad": bad.to_numpy(dtype=float),
            "pd": scored["pd"].astype(float).to_numpy(),
            "expected": expected.to_numpy(dtype=float),
        }
    )
    if by == "letter":
        key = frame["grade"].where(frame["grade"] == DECLINED, frame["grade"].str[0])
        order = [*GRADE_LETTERS, DECLINED]
    else:
        key = frame["grade"]
        order = [*SUB_GRADES, DECLINED]
    rows = []
    for grade in order:
        group = frame[key == grade]
        if group.empty:
            continue
        rows.append(
            GradeRow(
                grade=grade,
                count=len(group),
                share=len(group) / len(frame),
                bads=int(group["bad"].sum()),
                bad_rate=float(group["bad"].mean()),
                mean_pd_12m=float(group["pd"].mean()),
                expected_bad_rate=float(group["expected"].mean()),
            )
        )
    return rows


def monotonicity_breaks(table: list[GradeRow]) -> list[str]:
    """Return the well-populated grades whose bad rate is not above the previous one's."""
    judged = [row for row in table if row.judged]
    return [
        after.grade
        for before, after in zip(judged, judged[1:], strict=False)
        if after.bad_rate <= before.bad_rate
    ]


def calibration_misses(table: list[GradeRow], tolerance: float = 1.5) -> list[str]:
    """Return the well-populated grades whose expected bad rate is not within ×``tolerance`` of
    the observed one."""
    return [
        row.grade
        for row in table
        if row.judged
        and (
            row.bad_rate == 0
            or not 1 / tolerance <= row.expected_bad_rate / row.bad_rate <= tolerance
        )
    ]
