"""The built-in scorecard is what the pipeline trains on the German credit example."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from pricing.scorecard_file import default_scorecard
from risk.example import (
    GERMAN_CREDIT_MAP,
    GERMAN_CREDIT_POPULATION_BAD_RATE,
    GERMAN_CREDIT_VERSION,
    german_credit_csv,
)
from risk.mapping import apply_map, load_map
from risk.training import TrainingOptions, TrainingResult, train_scorecard

BUILT_IN = Path(__file__).parents[2] / "pricing" / "scorecards" / "german-credit-v2.json"


@pytest.fixture(scope="module")
def german() -> TrainingResult:
    frame = pd.read_csv(io.StringIO(german_credit_csv()), dtype=str, keep_default_na=False)
    column_map = load_map(GERMAN_CREDIT_MAP)
    options = TrainingOptions(
        GERMAN_CREDIT_VERSION, seed=0, population_bad_rate=GERMAN_CREDIT_POPULATION_BAD_RATE
    )
    return train_scorecard(
        apply_map(frame, column_map), column_map, options, progress=lambda _: None
    )


def test_the_built_in_card_is_what_training_on_the_example_produces(german: TrainingResult) -> None:
    built_in = json.loads(BUILT_IN.read_text(encoding="utf-8"))
    trained = german.card_json
    assert default_scorecard().version == trained["version"] == built_in["version"]
    assert [c["attribute"] for c in trained["characteristics"]] == [
        c["attribute"] for c in built_in["characteristics"]
    ]
    for ours, shipped in zip(trained["characteristics"], built_in["characteristics"], strict=True):
        assert [{k: v for k, v in b.items() if k != "points"} for b in ours["bins"]] == [
            {k: v for k, v in b.items() if k != "points"} for b in shipped["bins"]
        ]
        # Points may move by one where a library release rounds a weight of evidence differently.
        for a, b in zip(ours["bins"], shipped["bins"], strict=True):
            assert abs(a["points"] - b["points"]) <= 1
    assert trained["pd_model"]["slope"] == pytest.approx(built_in["pd_model"]["slope"], rel=0.02)


def test_the_german_card_meets_the_goals_on_the_held_out_share(german: TrainingResult) -> None:
    metrics = german.metrics
    assert metrics["held_out"]["auc"] >= 0.78
    assert metrics["held_out"]["auc"] >= metrics["optbinning_baseline_auc"]
    assert metrics["non_monotone_letters"] == []
    assert metrics["letters_outside_1_5x"] == []
    letters = {row["grade"]: row for row in metrics["by_letter"]}
    assert set("ABCD") <= set(letters)  # spread across the ladder, not bunched in one letter
