"""``autofin risk evaluate``: how a scorecard ranks and how its PDs compare with what happened,
on a labelled file."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pricing.scorecard_file import load_scorecard
from risk.mapping import apply_map, load_map, read_csv
from risk.scoring import (
    calibration_misses,
    expected_sample_bad_rate,
    grade_table,
    monotonicity_breaks,
    ranking_metrics,
    score_rows,
)


def evaluate_file(
    scorecard_path: Path, data_path: Path, map_path: Path, population_bad_rate: float | None
) -> dict[str, Any]:
    """Return AUC, KS, Gini and count / bad rate / PD per grade letter on the labelled rows."""
    if population_bad_rate is None:
        card = json.loads(scorecard_path.read_text(encoding="utf-8"))
        population_bad_rate = (card.get("development") or {}).get("population_bad_rate")
    data = apply_map(read_csv(data_path), load_map(map_path)).labelled()
    scored = score_rows(load_scorecard(scorecard_path), data)
    sample_bad_rate = float(data.bad.mean())
    expected = expected_sample_bad_rate(
        scored["pd"].astype(float), data.window_months, sample_bad_rate, population_bad_rate
    )
    letters = grade_table(scored, data.bad, expected, by="letter")
    return {
        "rows": len(scored),
        "bad_rate": sample_bad_rate,
        "population_bad_rate": population_bad_rate,
        **{
            key: round(value, 4)
            for key, value in ranking_metrics(scored["score"], data.bad).items()
        },
        "by_letter": [asdict(row) for row in letters],
        "non_monotone_letters": monotonicity_breaks(letters),
        "letters_outside_1_5x": calibration_misses(letters),
    }


def format_evaluation(report: dict[str, Any]) -> str:
    """Return the evaluation as a plain-text table."""
    lines = [
        f"rows {report['rows']}, bad rate {report['bad_rate']:.1%}"
        + (
            f" (predictions carried to a sample prior from a population bad rate of "
            f"{report['population_bad_rate']:.1%})"
            if report["population_bad_rate"]
            else ""
        ),
        f"AUC {report['auc']:.3f}   KS {report['ks']:.3f}   Gini {report['gini']:.3f}",
        "",
        f"{'grade':<9}{'count':>7}{'bad rate':>10}{'predicted':>11}{'12m PD':>9}",
    ]
    for row in report["by_letter"]:
        lines.append(
            f"{row['grade']:<9}{row['count']:>7}{row['bad_rate']:>10.1%}"
            f"{row['expected_bad_rate']:>11.1%}{row['mean_pd_12m']:>9.2%}"
        )
    breaks = report["non_monotone_letters"]
    lines.append("")
    lines.append(
        f"NOT MONOTONE: bad rate does not rise at {', '.join(breaks)}"
        if breaks
        else "bad rate rises with every well-populated letter"
    )
    if report["letters_outside_1_5x"]:
        lines.append(
            f"predicted off by more than x1.5 at {', '.join(report['letters_outside_1_5x'])}"
        )
    return "\n".join(lines)
