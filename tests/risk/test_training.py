"""Training a scorecard, writing it, and scoring with it through ``pricing``."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from autofin.cli import main
from pricing.applicant import CATEGORIES
from pricing.scorecard import score_values
from pricing.scorecard_file import load_scorecard
from risk.attributes import KNOWLEDGE
from risk.mapping import MappedData, apply_map, load_map, read_csv
from risk.scoring import DECLINED, score_rows
from risk.training import TrainingOptions, TrainingResult, train_scorecard


@pytest.fixture(scope="module")
def trained(book_dir: Path) -> TrainingResult:
    column_map = load_map(book_dir / "loans.map.json")
    data = apply_map(read_csv(book_dir / "loans.csv"), column_map)
    options = TrainingOptions("synthetic-v1", seed=3, population_bad_rate=0.08)
    return train_scorecard(data, column_map, options, progress=lambda _: None)


@pytest.fixture(scope="module")
def out_dir(book_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trained") / "synthetic-v1"
    main(["risk", "train", str(book_dir / "loans.csv"), "--map", str(book_dir / "loans.map.json"),
          "--out", str(out), "--seed", "3", "--population-bad-rate", "0.08"])  # fmt: skip
    return out


def test_train_writes_the_card_the_metrics_and_a_report_with_pictures(
    out_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = load_scorecard(out_dir / "scorecard.json")
    assert card.version == "synthetic-v1" and card.pd_model is not None
    metrics = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["rows"] == {"train": 1400, "test": 600}
    assert 0.65 < metrics["held_out"]["auc"] <= 1
    assert metrics["held_out"]["gini"] == pytest.approx(
        2 * metrics["held_out"]["auc"] - 1, abs=1e-3
    )
    report = (out_dir / "report.html").read_text(encoding="utf-8")
    assert report.count("data:image/png;base64,") >= 7
    for heading in ("ROC curve", "KS", "Calibration", "Information value", "constant hazard"):
        assert heading in report
    assert "revolving_utilisation" in report and "<td>Missing</td>" in report


def test_training_is_deterministic(book_dir: Path, trained: TrainingResult) -> None:
    column_map = load_map(book_dir / "loans.map.json")
    data = apply_map(read_csv(book_dir / "loans.csv"), column_map)
    again = train_scorecard(
        data, column_map, TrainingOptions("synthetic-v1", seed=3, population_bad_rate=0.08),
        progress=lambda _: None,
    )  # fmt: skip
    assert again.card_json == trained.card_json


def test_the_card_round_trips_through_the_file_to_the_same_pds(
    trained: TrainingResult, book_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "card.json"
    path.write_text(json.dumps(trained.card_json), encoding="utf-8")
    loaded = load_scorecard(path)
    assert loaded == trained.scorecard
    data = apply_map(read_csv(book_dir / "loans.csv"), load_map(book_dir / "loans.map.json"))
    rescored = score_rows(loaded, data.labelled())
    # The held-out rows are a subset: every one of their PDs is what the file gives again.
    by_score = dict(zip(rescored["score"], rescored["pd"], strict=False))
    assert all(
        by_score[s] == p for s, p in zip(trained.test["score"], trained.test["pd"], strict=True)
    )
    pds = [Decimal(p) for p in trained.test["pd"]]
    assert all(Decimal(0) < p < Decimal(1) for p in pds)


def test_points_are_monotone_wherever_the_binning_is_monotone(trained: TrainingResult) -> None:
    card = trained.card_json
    checked = 0
    for characteristic in card["characteristics"]:
        trend = KNOWLEDGE[characteristic["attribute"]].trend
        if characteristic["attribute"] in CATEGORIES or trend not in ("ascending", "descending"):
            continue
        points = [b["points"] for b in characteristic["bins"] if not b.get("missing")]
        # More of an "ascending" attribute is riskier: points never rise along its bins.
        steps = [after - before for before, after in zip(points, points[1:], strict=False)]
        assert (
            all(step <= 0 for step in steps) if trend == "ascending" else all(s >= 0 for s in steps)
        )
        checked += 1
    assert checked >= 2  # employment, utilisation, ltv, delinquencies are trend-constrained


def test_the_card_learns_the_drivers_of_the_synthetic_book(trained: TrainingResult) -> None:
    selected = {c.attribute for c in trained.characteristics if c.selected}
    assert {"employment_months", "housing", "revolving_utilisation", "ltv"} <= selected
    housing = next(c for c in trained.card_json["characteristics"] if c["attribute"] == "housing")
    points = {v: b["points"] for b in housing["bins"] for v in b.get("values", [])}
    assert points["own"] > points["rent"]


def test_a_row_with_missing_attributes_scores_and_is_never_declined_for_it(
    trained: TrainingResult,
) -> None:
    empty = score_values(trained.scorecard, {})
    assert 0 < empty.pd < 1
    row = pd.DataFrame({name: [None] for name in ("age", "housing", "ltv")}, dtype=object)
    blank = MappedData(
        row.astype({"age": float, "ltv": float}), pd.Series([float("nan")]),
        pd.Series([24.0]), pd.Series([False]),
    )  # fmt: skip
    scored = score_rows(trained.scorecard, blank)
    assert scored.loc[0, "grade"] != DECLINED and scored.loc[0, "declined_because"] == ""


def test_score_writes_one_row_per_input_row_in_order(
    out_dir: Path, book_dir: Path, tmp_path: Path
) -> None:
    rows = read_csv(book_dir / "loans.csv").head(50)
    rows.loc[3, "Age"] = "16"  # a hard rule, declined whatever the score
    rows.loc[4, ["Age", "Home", "CardUse", "Price"]] = ""  # everything optional missing
    rows.loc[5, "status"] = ""  # no outcome yet: scored all the same
    source = tmp_path / "new.csv"
    rows.to_csv(source, index=False)
    scored_path = tmp_path / "scored.csv"
    main(["risk", "score", str(out_dir / "scorecard.json"), str(source), "--map",
          str(book_dir / "loans.map.json"), "--out", str(scored_path)])  # fmt: skip
    with scored_path.open(encoding="utf-8") as handle:
        scored = list(csv.DictReader(handle))
    assert len(scored) == 50
    assert list(scored[0]) == ["score", "pd", "grade", "declined_because"]
    assert scored[3]["grade"] == DECLINED and scored[3]["declined_because"] == "under_min_age"
    assert scored[4]["grade"] != DECLINED and scored[5]["grade"] != DECLINED
    card = load_scorecard(out_dir / "scorecard.json")
    mapped = apply_map(rows, load_map(book_dir / "loans.map.json"))
    for index in (0, 4, 17):
        expected = score_values(card, mapped.row_values(index))
        assert (int(scored[index]["score"]), Decimal(scored[index]["pd"])) == (
            expected.score,
            expected.pd,
        )


def test_evaluate_prints_ranking_and_grades_and_json_too(
    out_dir: Path, book_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["risk", "evaluate", str(out_dir / "scorecard.json"), str(book_dir / "loans.csv"),
            "--map", str(book_dir / "loans.map.json")]  # fmt: skip
    main(args)
    text = capsys.readouterr().out
    assert "AUC" in text and "KS" in text and "Gini" in text and "bad rate" in text
    main([*args, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 2000 and 0.5 < report["auc"] <= 1
    letters = [row["grade"] for row in report["by_letter"]]
    assert letters == sorted(letters, key=lambda g: "ABCDEFG".find(g) if g != "declined" else 9)
    assert {"count", "bad_rate", "mean_pd_12m"} <= set(report["by_letter"][0])
    assert isinstance(report["non_monotone_letters"], list)


def test_a_bad_map_is_a_one_line_error_not_a_traceback(book_dir: Path, tmp_path: Path) -> None:
    bad_map = tmp_path / "bad.map.json"
    bad_map.write_text(json.dumps({"target": {"column": "status", "bad": ["bad"]},
                                   "observation_months": 12,
                                   "attributes": {"shoe_size": {"column": "Age"}}}))  # fmt: skip
    with pytest.raises(SystemExit, match="unknown attribute"):
        main(["risk", "train", str(book_dir / "loans.csv"), "--map", str(bad_map), "--out",
              str(tmp_path / "out")])  # fmt: skip


def test_without_the_training_libraries_the_command_says_how_to_install_them(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\nclass Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('optbinning', 'pandas', 'matplotlib'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", "from autofin.cli import main; main(['risk', 'train', 'x.csv', "
         "'--map', 'm.json', '--out', 'o'])"],
        env={"PYTHONPATH": str(tmp_path), "PATH": ""}, capture_output=True, text=True,
        check=False, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert result.returncode != 0
    assert "pip install 'autofin[risk]'" in result.stderr
