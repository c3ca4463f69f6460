"""``autofin risk …``: train, score and evaluate scorecards from CSV files.

Registering the commands imports nothing heavy; each command imports the training libraries
when it runs, and says how to install them when they are missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from risk import INSTALL_HINT


def add_risk_commands(commands: Any) -> Any:
    """Add ``risk train|score|evaluate|example-data`` under the ``autofin`` parser; return the
    ``risk`` sub-commands, so the composition root can add the ones that need the database."""
    risk = commands.add_parser("risk", help="train, score and evaluate scorecards").add_subparsers(
        dest="risk_command", required=True
    )
    train = risk.add_parser("train", help="fit a scorecard from a labelled CSV of past loans")
    train.add_argument("data", type=Path, help="CSV of past loans with a bad flag")
    train.add_argument("--map", type=Path, required=True, help="map JSON: columns → attributes")
    train.add_argument("--out", type=Path, required=True, help="directory for the three files")
    train.add_argument("--test-share", type=_share, default=0.3, help="held out (default 0.3)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--population-bad-rate",
        type=_share,
        default=None,
        help="the population's bad rate over the same window, when the sample's was oversampled",
    )
    train.add_argument("--version", default=None, help="scorecard version (default: DIR's name)")
    train.set_defaults(run=_needs_libraries(cmd_train))

    score = risk.add_parser("score", help="score every row of a CSV")
    score.add_argument("scorecard", type=Path)
    score.add_argument("data", type=Path)
    score.add_argument("--map", type=Path, required=True)
    score.add_argument("--out", type=Path, required=True, help="CSV: score, pd, grade per row")
    score.set_defaults(run=_needs_libraries(cmd_score))

    evaluate = risk.add_parser("evaluate", help="AUC, KS, Gini and bad rate by grade letter")
    evaluate.add_argument("scorecard", type=Path)
    evaluate.add_argument("data", type=Path)
    evaluate.add_argument("--map", type=Path, required=True)
    evaluate.add_argument(
        "--population-bad-rate",
        type=_share,
        default=None,
        help="when the file's bad rate was oversampled (default: the card's development figure)",
    )
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.set_defaults(run=_needs_libraries(cmd_evaluate))

    example = risk.add_parser(
        "example-data", help="write the German credit CSV the built-in scorecard is trained on"
    )
    example.add_argument("out", type=Path)
    example.set_defaults(run=_needs_libraries(cmd_example_data))
    return risk


def cmd_train(args: argparse.Namespace) -> None:
    from dataclasses import asdict

    from risk.mapping import apply_map, load_map, read_csv
    from risk.report import render_report
    from risk.training import TrainingOptions, train_scorecard

    column_map = load_map(args.map)
    data = apply_map(read_csv(args.data), column_map)
    options = TrainingOptions(
        version=args.version or args.out.name,
        test_share=args.test_share,
        seed=args.seed,
        population_bad_rate=args.population_bad_rate,
    )
    result = train_scorecard(data, column_map, options)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scorecard.json").write_text(
        json.dumps(result.card_json, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    metrics = dict(result.metrics)
    metrics["characteristics"] = [
        {k: v for k, v in asdict(c).items() if k != "bins"} for c in result.characteristics
    ]
    (args.out / "metrics.json").write_text(
        json.dumps(metrics, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (args.out / "report.html").write_text(render_report(result, column_map), encoding="utf-8")
    held = result.metrics["held_out"]
    print(
        f"{options.version}: held-out AUC {held['auc']:.3f}, KS {held['ks']:.3f}, Gini "
        f"{held['gini']:.3f} (optbinning baseline AUC "
        f"{result.metrics['optbinning_baseline_auc']:.3f}); wrote {args.out}/scorecard.json, "
        "metrics.json, report.html"
    )


def cmd_score(args: argparse.Namespace) -> None:
    from pricing.scorecard_file import load_scorecard
    from risk.mapping import apply_map, load_map, read_csv
    from risk.scoring import score_rows

    data = apply_map(read_csv(args.data), load_map(args.map))
    scored = score_rows(load_scorecard(args.scorecard), data)
    scored.to_csv(args.out, index=False)
    print(f"scored {len(scored)} rows into {args.out}", file=sys.stderr)


def cmd_evaluate(args: argparse.Namespace) -> None:
    from risk.evaluation import evaluate_file, format_evaluation

    report = evaluate_file(args.scorecard, args.data, args.map, args.population_bad_rate)
    print(json.dumps(report, indent=1) if args.json else format_evaluation(report))


def cmd_example_data(args: argparse.Namespace) -> None:
    from risk.example import GERMAN_CREDIT_MAP, write_german_credit

    path = write_german_credit(args.out)
    print(
        f"wrote {path}; train with: autofin risk train {path} --map {GERMAN_CREDIT_MAP} "
        "--out german-credit --population-bad-rate 0.05"
    )


def _needs_libraries(
    command: Callable[[argparse.Namespace], None],
) -> Callable[[argparse.Namespace], None]:
    def run(args: argparse.Namespace) -> None:
        try:
            import matplotlib  # noqa: F401
            import optbinning  # noqa: F401
            import pandas  # noqa: F401
        except ModuleNotFoundError:
            raise SystemExit(INSTALL_HINT) from None
        try:
            command(args)
        except (ValueError, OSError) as error:  # MapError, ScorecardError, unreadable files
            raise SystemExit(f"autofin risk: {error}") from None

    return run


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("must be strictly between 0 and 1")
    return value
