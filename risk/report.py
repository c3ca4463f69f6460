"""The training report: one self-contained HTML page (pictures embedded as PNG) for a risk
officer — what the data is, how well the card ranks, whether its PDs match what happened, and
every characteristic's bins and points."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

from risk.mapping import ColumnMap  # noqa: E402
from risk.scoring import GradeRow  # noqa: E402
from risk.training import TrainingResult  # noqa: E402

GOOD, BAD, PREDICTED = "#2b7bba", "#d7301f", "#555555"


def render_report(result: TrainingResult, column_map: ColumnMap) -> str:
    """Return the report as one HTML document."""
    metrics = result.metrics
    population = metrics["population_bad_rate"]
    sections = [
        _section(
            "数据 · The data",
            f"<p>{html.escape(column_map.description or 'Labelled past loans.')}</p>"
            f"<p>{metrics['rows']['train']} rows to fit, {metrics['rows']['test']} held out "
            f"(stratified {metrics['test_share']:.0%}, seed {metrics['seed']}); sample bad rate "
            f"{result.sample_bad_rate:.1%}"
            + (f", corrected to a population bad rate of {population:.1%}." if population else ".")
            + "</p>"
            + (
                "<h3>局限 · Where this data falls short</h3><ul>"
                + "".join(f"<li>{html.escape(note)}</li>" for note in column_map.notes)
                + "</ul>"
                if column_map.notes
                else ""
            ),
        ),
        _section(
            "区分能力 · How well it ranks (held-out)",
            _figure_row([_roc(result), _ks(result), _distributions(result)])
            + _summary_table(metrics),
        ),
        _section(
            "等级 · Grades",
            _figure_row([_by_grade(result.letter_table, "grade letter"), _calibration(result)])
            + _grade_html(result.letter_table)
            + _checks(metrics)
            + _figure_row([_by_grade(result.sub_grade_table, "sub-grade", wide=True)])
            + _grade_html(result.sub_grade_table),
        ),
        _section("违约概率 · How the PD is calibrated", _calibration_text(result, column_map)),
        _section(
            "特征 · Characteristics",
            _figure_row([_information_values(result)]) + _characteristics_html(result),
        ),
    ]
    title = f"Scorecard {html.escape(str(metrics['version']))} — training report"
    return (
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{_CSS}</style></head><body>"
        f"<h1>评分卡训练报告 · {title}</h1>" + "".join(sections) + "</body></html>"
    )


def _section(title: str, body: str) -> str:
    return f"<section><h2>{title}</h2>{body}</section>"


def _png(figure: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f"<figure><img alt='{html.escape(alt)}' src='data:image/png;base64,{encoded}'>"
        f"<figcaption>{html.escape(alt)}</figcaption></figure>"
    )


def _figure_row(images: Sequence[str]) -> str:
    return "<div class='figures'>" + "".join(images) + "</div>"


def _roc(result: TrainingResult) -> str:
    figure, axes = plt.subplots(figsize=(4.2, 4))
    for frame, label, style in ((result.test, "held-out", "-"), (result.train, "development", ":")):
        fpr, tpr, _ = roc_curve(frame["bad"], -frame["score"])
        axes.plot(fpr, tpr, style, color=BAD, label=label)
    axes.plot([0, 1], [0, 1], color="#bbbbbb", linewidth=1)
    axes.set(
        title=f"ROC (AUC {result.metrics['held_out']['auc']:.3f})",
        xlabel="goods declined (false positive rate)",
        ylabel="bads caught (true positive rate)",
    )
    axes.legend(loc="lower right")
    return _png(figure, "ROC curve")


def _ks(result: TrainingResult) -> str:
    frame = result.test
    scores = np.sort(frame["score"].unique())
    bads = np.sort(frame.loc[frame["bad"] == 1, "score"].to_numpy())
    goods = np.sort(frame.loc[frame["bad"] == 0, "score"].to_numpy())
    cdf_bad = np.searchsorted(bads, scores, side="right") / len(bads)
    cdf_good = np.searchsorted(goods, scores, side="right") / len(goods)
    at = int(np.argmax(np.abs(cdf_bad - cdf_good)))
    figure, axes = plt.subplots(figsize=(4.2, 4))
    axes.step(scores, cdf_bad, where="post", color=BAD, label="bads")
    axes.step(scores, cdf_good, where="post", color=GOOD, label="goods")
    axes.vlines(scores[at], cdf_good[at], cdf_bad[at], color=PREDICTED, linestyles="--")
    axes.set(
        title=f"KS {result.metrics['held_out']['ks']:.3f} at score {scores[at]:.0f}",
        xlabel="score",
        ylabel="share scoring at or below",
    )
    axes.legend(loc="lower right")
    return _png(figure, "KS: cumulative score distributions of goods and bads")


def _distributions(result: TrainingResult) -> str:
    frame = result.test
    figure, axes = plt.subplots(figsize=(4.2, 4))
    bins = np.histogram_bin_edges(frame["score"], bins=20).tolist()
    axes.hist(
        frame.loc[frame["bad"] == 0, "score"],
        bins=bins,
        alpha=0.6,
        color=GOOD,
        label="goods",
        density=True,
    )
    axes.hist(
        frame.loc[frame["bad"] == 1, "score"],
        bins=bins,
        alpha=0.6,
        color=BAD,
        label="bads",
        density=True,
    )
    axes.set(title="Score distributions (held-out)", xlabel="score", ylabel="density")
    axes.legend()
    return _png(figure, "Score distributions of goods and bads")


def _by_grade(table: list[GradeRow], what: str, *, wide: bool = False) -> str:
    rows = [row for row in table if row.grade != "declined"]
    figure, axes = plt.subplots(figsize=(9.5 if wide else 4.6, 4))
    positions = np.arange(len(rows))
    axes.bar(
        positions - 0.2, [row.bad_rate for row in rows], 0.4, color=BAD, label="observed bad rate"
    )
    axes.bar(
        positions + 0.2,
        [row.expected_bad_rate for row in rows],
        0.4,
        color=PREDICTED,
        label="predicted, on the data's window and prior",
    )
    axes.plot(
        positions,
        [row.mean_pd_12m for row in rows],
        "o-",
        color=GOOD,
        label="mean 12-month PD (population)",
    )
    for position, row in zip(positions, rows, strict=True) if not wide else ():
        axes.annotate(
            f"n={row.count}",
            (position, 0),
            textcoords="offset points",
            xytext=(0, -24),
            ha="center",
            fontsize=7,
        )
    axes.set_xticks(positions, [row.grade for row in rows])
    axes.set(
        title=f"Bad rate and PD by {what} (held-out; counts in the table)"
        if wide
        else f"Bad rate and PD by {what} (held-out)",
        ylabel="rate",
    )
    axes.legend(fontsize=7)
    return _png(figure, f"Bad rate and PD by {what}")


def _calibration(result: TrainingResult) -> str:
    frame = result.test.sort_values("expected", kind="stable")
    deciles = np.array_split(np.arange(len(frame)), 10)
    expected = [frame["expected"].iloc[rows].mean() for rows in deciles]
    observed = [frame["bad"].iloc[rows].mean() for rows in deciles]
    figure, axes = plt.subplots(figsize=(4.2, 4))
    top = max(max(expected), max(observed)) * 1.05
    axes.plot([0, top], [0, top], color="#bbbbbb", linewidth=1)
    axes.plot(expected, observed, "o-", color=BAD)
    axes.set(
        title="Calibration by decile (held-out)",
        xlabel="predicted bad rate",
        ylabel="observed bad rate",
    )
    return _png(figure, "Calibration: predicted against observed bad rate by decile")


def _information_values(result: TrainingResult) -> str:
    ordered = sorted(result.characteristics, key=lambda c: c.information_value)
    figure, axes = plt.subplots(figsize=(6, 0.35 * len(ordered) + 1))
    axes.barh(
        [c.attribute for c in ordered],
        [c.information_value for c in ordered],
        color=[GOOD if c.selected else "#bbbbbb" for c in ordered],
    )
    axes.axvline(0.02, color=PREDICTED, linestyle="--", linewidth=1)
    axes.set(title="Information value (grey: not in the card)", xlabel="IV")
    return _png(figure, "Information value per characteristic")


def _summary_table(metrics: dict[str, Any]) -> str:
    held, dev = metrics["held_out"], metrics["development"]
    rows = [
        ("AUC", held["auc"], dev["auc"]),
        ("Gini", held["gini"], dev["gini"]),
        ("KS", held["ks"], dev["ks"]),
    ]
    body = "".join(
        f"<tr><td>{name}</td><td>{h:.3f}</td><td>{d:.3f}</td></tr>" for name, h, d in rows
    )
    return (
        "<table><tr><th></th><th>held-out</th><th>development</th></tr>"
        f"{body}</table><p>optbinning's own scorecard on the same mapped columns "
        f"(defaults, no trend constraints): held-out AUC "
        f"{metrics['optbinning_baseline_auc']:.3f}.</p>"
    )


def _grade_html(table: list[GradeRow]) -> str:
    body = "".join(
        f"<tr><td>{row.grade}</td><td>{row.count}</td><td>{row.share:.1%}</td><td>{row.bads}</td>"
        f"<td>{row.bad_rate:.1%}</td><td>{row.expected_bad_rate:.1%}</td>"
        f"<td>{row.mean_pd_12m:.2%}</td></tr>"
        for row in table
    )
    return (
        "<table><tr><th>grade</th><th>count</th><th>share</th><th>bads</th><th>bad rate</th>"
        "<th>predicted (window, sample prior)</th><th>mean 12-month PD</th></tr>"
        f"{body}</table>"
    )


def _checks(metrics: dict[str, Any]) -> str:
    breaks, misses = metrics["non_monotone_letters"], metrics["letters_outside_1_5x"]
    monotone = (
        "bad rate rises with every well-populated letter (≥ 5% of rows)"
        if not breaks
        else f"<b>not monotone</b> at {', '.join(breaks)}"
    )
    calibrated = (
        "every well-populated letter's prediction is within ×1.5 of its bad rate"
        if not misses
        else f"<b>prediction off by more than ×1.5</b> at {', '.join(misses)}"
    )
    return f"<ul><li>{monotone}</li><li>{calibrated}</li></ul>"


def _calibration_text(result: TrainingResult, column_map: ColumnMap) -> str:
    window = (
        f"each row's <code>{html.escape(column_map.observation_column)}</code> months"
        if column_map.observation_column
        else f"{column_map.observation_months:g} months"
    )
    population = result.metrics["population_bad_rate"]
    sample = result.sample_bad_rate
    ratio = (population / (1 - population)) / (sample / (1 - sample)) if population else 1.0
    prior = (
        f"<p><b>Prior correction.</b> The sample's bad rate π<sub>s</sub> = "
        f"{result.sample_bad_rate:.1%} was oversampled; the population's is π<sub>p</sub> = "
        f"{population:.1%}. The odds of default scale by (π<sub>p</sub>/(1−π<sub>p</sub>)) ÷ "
        f"(π<sub>s</sub>/(1−π<sub>s</sub>)) = "
        f"{ratio:.4f}."
        "</p>"
        if population
        else "<p>No prior correction: the sample's bad rate is taken as the population's.</p>"
    )
    fit = result.pd_fit
    return (
        f"<p><b>Window.</b> The bad flag covers {window}. Assuming a <b>constant hazard</b> "
        "(the same chance of defaulting every month), a PD over T months converts to 12 months "
        "as PD<sub>12</sub> = 1 − (1 − PD<sub>T</sub>)<sup>12/T</sup>.</p>"
        + prior
        + "<p><b>Model.</b> ln(good:bad odds over 12 months) = intercept + slope × score, fitted "
        "by maximum likelihood on the development rows' labels through both conversions "
        "(12 months → the row's window → the sample's prior). Intercept "
        f"{fit.intercept:.4f}, slope {fit.slope:.5f}: every "
        f"{np.log(2) / fit.slope:.1f} points halve the odds of default.</p>"
        "<p>Grades are the platform's 12-month PD bands (A1…G5, <code>pricing/policy.py</code>); "
        "a PD beyond G5 declines.</p>"
    )


def _characteristics_html(result: TrainingResult) -> str:
    parts = []
    for summary in sorted(result.characteristics, key=lambda c: -c.information_value):
        status = (
            f"in the card; trend {summary.trend or 'by bad rate (category)'}; coefficient "
            f"{summary.coefficient:.3f}"
            if summary.selected and summary.coefficient is not None
            else f"not in the card: {html.escape(summary.why)}"
        )
        head = f"<h3>{summary.attribute} — IV {summary.information_value:.3f}</h3><p>{status}</p>"
        if not summary.bins:
            parts.append(head)
            continue
        body = "".join(
            f"<tr><td>{html.escape(row.label)}</td><td>{row.count}</td><td>{row.bads}</td>"
            f"<td>{row.bad_rate:.1%}</td><td>{row.woe:.3f}</td><td>{row.iv:.4f}</td>"
            f"<td>{row.points}</td></tr>"
            for row in summary.bins
        )
        parts.append(
            head + "<table><tr><th>bin</th><th>count</th><th>bads</th><th>bad rate</th>"
            "<th>WoE</th><th>IV</th><th>points</th></tr>" + body + "</table>"
        )
    return "".join(parts)


_CSS = """
body { font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 1100px; margin: 2em auto; color: #222; line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .9em; }
td, th { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; } img { max-width: 100%; }
figure { margin: 0; } figcaption { font-size: .8em; color: #666; text-align: center; }
"""
