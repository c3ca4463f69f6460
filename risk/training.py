"""Fit a scorecard from labelled past loans: optimal binning (optbinning, monotone where the
risk trend is known), logistic regression on the bins' weights of evidence, points on the
classic scale, and a 12-month PD calibrated through the observation window and the population's
bad rate (``risk.calibration``). Everything is seeded, so the same data gives the same card."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from optbinning import BinningProcess
from optbinning import Scorecard as OptbinningScorecard
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from pricing.applicant import CATEGORIES
from pricing.policy import DEFAULT_POLICY, RiskPolicy
from pricing.scorecard import Scorecard
from pricing.scorecard_file import parse_scorecard
from risk.attributes import KNOWLEDGE
from risk.calibration import PdFit, fit_pd_model
from risk.mapping import ColumnMap, MappedData
from risk.scoring import (
    GradeRow,
    calibration_misses,
    expected_sample_bad_rate,
    grade_table,
    monotonicity_breaks,
    ranking_metrics,
    score_rows,
)

BASE_SCORE, BASE_ODDS, PDO = 600, 50, 20  # 600 points at 50:1, 20 points double the odds
MIN_INFORMATION_VALUE = 0.02  # below this a characteristic does not earn a place (the usual cut)
MIN_BIN_SHARE = 0.05
SCORE_BANDS = 10

Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class TrainingOptions:
    version: str
    test_share: float = 0.3
    seed: int = 0
    population_bad_rate: float | None = None
    min_information_value: float = MIN_INFORMATION_VALUE


@dataclass(frozen=True, slots=True)
class BinRow:
    label: str
    count: int
    bads: int
    bad_rate: float
    woe: float
    iv: float
    points: int


@dataclass(frozen=True, slots=True)
class CharacteristicSummary:
    attribute: str
    information_value: float
    trend: str | None
    selected: bool
    why: str  # why it was left out, or "" when selected
    coefficient: float | None = None
    bins: tuple[BinRow, ...] = ()


@dataclass
class TrainingResult:
    """Everything a training run produced: the card and what the report shows about it."""

    card_json: dict[str, Any]
    scorecard: Scorecard
    pd_fit: PdFit
    characteristics: list[CharacteristicSummary]
    sample_bad_rate: float
    metrics: dict[str, Any]
    # Held-out and development rows with their scores, for the report's pictures.
    test: pd.DataFrame
    train: pd.DataFrame
    letter_table: list[GradeRow] = field(default_factory=list)
    sub_grade_table: list[GradeRow] = field(default_factory=list)


def train_scorecard(
    data: MappedData,
    column_map: ColumnMap,
    options: TrainingOptions,
    policy: RiskPolicy = DEFAULT_POLICY,
    progress: Progress = stderr_progress,
) -> TrainingResult:
    """Return a scorecard fitted on a stratified share of the labelled rows and measured on the
    rest."""
    steps = 7
    labelled = data.labelled()
    if labelled.bad.nunique() < 2:
        raise ValueError("training needs both good and bad rows")
    progress(f"[1/{steps}] {len(labelled.bad)} labelled rows, bad rate {labelled.bad.mean():.1%}")
    positions = np.arange(len(labelled.bad))
    train_at, test_at = train_test_split(
        positions,
        test_size=options.test_share,
        random_state=options.seed,
        stratify=labelled.bad.to_numpy(),
    )
    train_at, test_at = np.sort(train_at), np.sort(test_at)
    x_train = labelled.attributes.iloc[train_at].reset_index(drop=True)
    y_train = labelled.bad.iloc[train_at].to_numpy(dtype=int)
    attributes = list(column_map.scored_attributes)

    progress(f"[2/{steps}] binning {len(attributes)} characteristics")
    binning = _binning_process(attributes).fit(x_train[attributes], y_train)
    summaries, selected = _select(binning, attributes, options.min_information_value)
    if not selected:
        raise ValueError("no characteristic carries enough information to build a scorecard")

    progress(f"[3/{steps}] logistic regression on {len(selected)} characteristics")
    woe = _woe(binning, x_train, selected)
    model, selected = _fit_with_sensible_signs(woe, y_train, selected, summaries)

    progress(f"[4/{steps}] points and the scorecard file")
    sample_bad_rate = float(y_train.mean())
    card_json = _card_json(
        binning, model, selected, summaries, options, sample_bad_rate, column_map
    )
    train_rows = _subset(labelled, train_at)
    test_rows = _subset(labelled, test_at)
    draft = parse_scorecard(card_json)
    train_scores = score_rows(draft, train_rows, policy)["score"]

    progress(f"[5/{steps}] calibrating the 12-month PD")
    pd_fit = fit_pd_model(
        train_scores.to_numpy(dtype=float),
        train_rows.bad.to_numpy(dtype=float),
        train_rows.window_months.to_numpy(dtype=float),
        options.population_bad_rate,
    )
    card_json["pd_model"] = {
        "horizon_months": 12,
        "intercept": round(pd_fit.intercept, 10),
        "slope": round(pd_fit.slope, 10),
    }
    card_json["development"]["score_distribution"] = _score_distribution(train_scores)
    scorecard = parse_scorecard(card_json)

    progress(f"[6/{steps}] scoring {len(test_at)} held-out rows")
    train = _scored_frame(scorecard, train_rows, policy, sample_bad_rate, options)
    test = _scored_frame(scorecard, test_rows, policy, sample_bad_rate, options)
    letters = grade_table(test, test["bad"], test["expected"], by="letter")
    sub_grades = grade_table(test, test["bad"], test["expected"], by="sub_grade")

    progress(f"[7/{steps}] optbinning baseline for comparison")
    baseline_auc = _baseline_auc(
        attributes, x_train, y_train, labelled.attributes.iloc[test_at], test["bad"], options.seed
    )
    metrics = _metrics(train, test, letters, sub_grades, baseline_auc, summaries, options)
    metrics["sample_bad_rate"] = sample_bad_rate
    return TrainingResult(
        card_json, scorecard, pd_fit, summaries, sample_bad_rate, metrics, test, train,
        letters, sub_grades,
    )  # fmt: skip


def _binning_process(attributes: list[str]) -> BinningProcess:
    """Return optbinning's process with each attribute's known risk trend enforced (its solvers
    are deterministic, so no seed is needed)."""
    categorical = [name for name in attributes if name in CATEGORIES]
    params: dict[str, dict[str, Any]] = {}
    for name in attributes:
        trend = KNOWLEDGE[name].trend
        if trend is not None:
            params[name] = {"monotonic_trend": trend}
    return BinningProcess(
        variable_names=attributes,
        categorical_variables=categorical,
        min_bin_size=MIN_BIN_SHARE,
        binning_fit_params=params,
    )


def _select(
    binning: BinningProcess, attributes: list[str], min_iv: float
) -> tuple[list[CharacteristicSummary], list[str]]:
    summaries = []
    selected = []
    for name in attributes:
        table = binning.get_binned_variable(name).binning_table
        table.build()
        iv = float(table.iv)
        keep = iv >= min_iv
        summaries.append(
            CharacteristicSummary(
                attribute=name,
                information_value=iv,
                trend=KNOWLEDGE[name].trend,
                selected=keep,
                why="" if keep else f"information value {iv:.3f} < {min_iv}",
            )
        )
        if keep:
            selected.append(name)
    return summaries, selected


def _woe(binning: BinningProcess, frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    columns = {}
    for name in names:
        optb = binning.get_binned_variable(name)
        columns[name] = optb.transform(
            frame[name].to_numpy(), metric="woe", metric_missing="empirical"
        )
    return pd.DataFrame(columns)


def _fit_with_sensible_signs(
    woe: pd.DataFrame, bad: np.ndarray, names: list[str], summaries: list[CharacteristicSummary]
) -> tuple[LogisticRegression, list[str]]:
    """Fit, and drop any characteristic whose coefficient came out with the wrong sign (a bin
    with better weight of evidence earning fewer points) — collinearity, not risk — then refit."""
    names = list(names)
    while True:
        model = LogisticRegression(C=1.0, max_iter=1000).fit(woe[names].to_numpy(), bad)
        # WoE = ln(good share / bad share): a sensible coefficient on the bad log-odds is < 0.
        wrong = [name for name, beta in zip(names, model.coef_[0], strict=True) if beta >= 0]
        if not wrong or len(names) == 1:
            break
        for name in wrong:
            names.remove(name)
            index = next(i for i, s in enumerate(summaries) if s.attribute == name)
            summary = summaries[index]
            summaries[index] = CharacteristicSummary(
                summary.attribute, summary.information_value, summary.trend, False,
                "coefficient of the wrong sign next to the others (collinear)",
            )  # fmt: skip
    return model, names


def _card_json(
    binning: BinningProcess,
    model: LogisticRegression,
    names: list[str],
    summaries: list[CharacteristicSummary],
    options: TrainingOptions,
    sample_bad_rate: float,
    column_map: ColumnMap,
) -> dict[str, Any]:
    factor = PDO / math.log(2)
    offset = BASE_SCORE - factor * math.log(BASE_ODDS)
    # The scale is meant for the population: shift the sample's odds by the prior ratio.
    shift = 0.0
    if options.population_bad_rate is not None:
        p = options.population_bad_rate
        shift = math.log((1 - p) / p) - math.log((1 - sample_bad_rate) / sample_bad_rate)
    base_points = round(offset + factor * (-float(model.intercept_[0]) + shift))
    characteristics = []
    order = sorted(
        names,
        key=lambda name: -next(s.information_value for s in summaries if s.attribute == name),
    )
    for name in order:
        beta = float(model.coef_[0][names.index(name)])
        knowledge = KNOWLEDGE[name]
        optb = binning.get_binned_variable(name)
        bins, rows = _bins(name, optb, -factor * beta)
        index = next(i for i, s in enumerate(summaries) if s.attribute == name)
        summary = summaries[index]
        summaries[index] = CharacteristicSummary(
            summary.attribute, summary.information_value, summary.trend, True, "", beta,
            tuple(rows),
        )  # fmt: skip
        characteristics.append(
            {
                "attribute": name,
                "reason": {"code": knowledge.code, "en": knowledge.en, "zh": knowledge.zh},
                "bins": bins,
            }
        )
    return {
        "version": options.version,
        "description": (
            f"Trained by `autofin risk train` on {column_map.description or 'labelled loans'}. "
            "Points: 600 at population odds 50:1 over the observation window, 20 points "
            "double the odds; the PD is pd_model's calibrated 12-month PD."
        ),
        "scaling": {"base_score": BASE_SCORE, "base_odds": BASE_ODDS, "points_to_double_odds": PDO},
        "base_points": base_points,
        "characteristics": characteristics,
        "development": {
            "sample_bad_rate": round(sample_bad_rate, 6),
            "population_bad_rate": options.population_bad_rate,
            "test_share": options.test_share,
            "seed": options.seed,
            "map": column_map.to_json(),
        },
    }


def _bins(name: str, optb: Any, points_per_woe: float) -> tuple[list[dict[str, Any]], list[BinRow]]:
    """Return the card's bins for one characteristic and the report's rows; a bin's points are
    ``−factor × β × WoE`` rounded to whole points."""
    table = optb.binning_table.build()
    n_bins = len(table) - 3  # the fitted bins, then Special, Missing and Totals
    splits = list(optb.splits)
    bins: list[dict[str, Any]] = []
    rows: list[BinRow] = []
    for position in range(n_bins + 2):
        row = table.iloc[position]
        label = str(row["Bin"])
        if label == "Special":
            continue
        points = round(points_per_woe * float(row["WoE"]))
        rows.append(
            BinRow(
                label=label,
                count=int(row["Count"]),
                bads=int(row["Event"]),
                bad_rate=float(row["Event rate"]),
                woe=float(row["WoE"]),
                iv=float(row["IV"]),
                points=points,
            )
        )
        if label == "Missing":
            bins.append({"missing": True, "points": points})
        elif name in CATEGORIES:
            allowed = CATEGORIES[name]
            values = sorted(str(v) for v in splits[position] if str(v) in allowed)
            bins.append({"values": values, "points": points})
        else:
            entry: dict[str, Any] = {"points": points}
            if position > 0:
                entry["lower"] = _bound(splits[position - 1])
            if position < n_bins - 1:
                entry["upper"] = _bound(splits[position])
            bins.append(entry)
    return bins, rows


def _bound(split: float) -> float | int:
    """Return a split as written to the card: 6 significant digits, whole numbers as ints."""
    value = float(f"{split:.6g}")
    return int(value) if value.is_integer() else value


def _subset(data: MappedData, positions: np.ndarray) -> MappedData:
    return MappedData(
        data.attributes.iloc[positions].reset_index(drop=True),
        data.bad.iloc[positions].reset_index(drop=True),
        data.window_months.iloc[positions].reset_index(drop=True),
        data.has_write_off.iloc[positions].reset_index(drop=True),
    )


def _scored_frame(
    scorecard: Scorecard,
    rows: MappedData,
    policy: RiskPolicy,
    sample_bad_rate: float,
    options: TrainingOptions,
) -> pd.DataFrame:
    scored = score_rows(scorecard, rows, policy)
    scored["bad"] = rows.bad.to_numpy()
    scored["window_months"] = rows.window_months.to_numpy()
    scored["expected"] = expected_sample_bad_rate(
        scored["pd"].astype(float), rows.window_months, sample_bad_rate, options.population_bad_rate
    ).to_numpy()
    return scored


def _score_distribution(scores: pd.Series) -> list[dict[str, Any]]:
    """Return the development sample's share per score band (deciles), for stability checks."""
    values = scores.to_numpy(dtype=float)
    cuts = sorted(
        {int(math.ceil(q)) for q in np.quantile(values, np.linspace(0, 1, SCORE_BANDS + 1)[1:-1])}
    )
    edges: list[int | None] = [None, *cuts, None]
    bands = []
    for lower, upper in zip(edges, edges[1:], strict=False):
        inside = np.ones_like(values, dtype=bool)
        if lower is not None:
            inside &= values >= lower
        if upper is not None:
            inside &= values < upper
        band: dict[str, Any] = {"share": round(float(inside.mean()), 6)}
        if lower is not None:
            band["lower"] = lower
        if upper is not None:
            band["upper"] = upper
        bands.append(band)
    return bands


def _baseline_auc(
    attributes: list[str],
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    x_test: pd.DataFrame,
    bad_test: pd.Series,
    seed: int,
) -> float:
    """Return the held-out AUC of optbinning's own scorecard on the same mapped columns, with
    its defaults (no trend constraints, no selection), as the bar the card must clear."""
    baseline = OptbinningScorecard(
        binning_process=BinningProcess(
            variable_names=attributes,
            categorical_variables=[name for name in attributes if name in CATEGORIES],
        ),
        estimator=LogisticRegression(max_iter=1000, random_state=seed),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": PDO, "odds": BASE_ODDS, "scorecard_points": BASE_SCORE},
    ).fit(x_train[attributes], y_train)
    probability = baseline.predict_proba(x_test[attributes].reset_index(drop=True))[:, 1]
    return ranking_metrics(pd.Series(-probability), bad_test)["auc"]


def _metrics(
    train: pd.DataFrame,
    test: pd.DataFrame,
    letters: list[GradeRow],
    sub_grades: list[GradeRow],
    baseline_auc: float,
    summaries: list[CharacteristicSummary],
    options: TrainingOptions,
) -> dict[str, Any]:
    held_out = ranking_metrics(test["score"], test["bad"])
    development = ranking_metrics(train["score"], train["bad"])
    return {
        "version": options.version,
        "rows": {"train": len(train), "test": len(test)},
        "test_share": options.test_share,
        "seed": options.seed,
        "population_bad_rate": options.population_bad_rate,
        "held_out": {key: round(value, 4) for key, value in held_out.items()},
        "development": {key: round(value, 4) for key, value in development.items()},
        "optbinning_baseline_auc": round(baseline_auc, 4),
        "by_letter": [asdict(row) for row in letters],
        "by_sub_grade": [asdict(row) for row in sub_grades],
        "non_monotone_letters": monotonicity_breaks(letters),
        "letters_outside_1_5x": calibration_misses(letters),
        "information_value": {s.attribute: round(s.information_value, 4) for s in summaries},
        "selected": [s.attribute for s in summaries if s.selected],
    }
