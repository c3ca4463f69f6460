"""Risk monitoring: does the champion keep its promise? Realised default of the platform's
booked loans by grade against the PD predicted for them, the population stability index of
this month's application scores against the card's development sample, and the shadow
challenger beside the champion. ``autofin jobs run`` and ``autofin risk monitor`` store one
report a day; ``GET /v1/admin/risk/monitor`` shows the latest."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.monitoring import repository
from marketplace.monitoring.repository import GradePerformance
from marketplace.monitoring.schemas import (
    BAD_DEFINITION,
    ChallengerComparison,
    GradeOutcome,
    MonitorReportPublic,
    ScoreBandShare,
)
from pricing import RiskPolicy, Scorecard, population_stability_index, stability_verdict
from pricing.fair_price import representative_pd
from pricing.grades import GRADE_LETTERS, grade_letter
from pricing.stability import band_counts
from shared.db import utcnow
from shared.observability import event

RATE = Decimal("0.0001")


def _rate(numerator: Decimal | int, denominator: int) -> Decimal:
    return (Decimal(numerator) / denominator).quantize(RATE) if denominator else Decimal(0)


def grade_outcomes(
    performance: Sequence[GradePerformance], policy: RiskPolicy, *, by_letter: bool = True
) -> list[GradeOutcome]:
    """Realised and predicted default per grade (letter, or sub-grade); a loan booked before
    its PD was recorded is predicted at its grade's representative PD."""
    groups: dict[str, list[GradePerformance]] = {}
    for row in performance:
        if not row.loans:
            continue
        groups.setdefault(grade_letter(row.grade) if by_letter else row.grade, []).append(row)
    outcomes = []
    for key in sorted(groups, key=lambda g: (GRADE_LETTERS.index(g[0]), g)):
        rows = groups[key]
        loans = sum(row.loans for row in rows)
        bad = sum(row.bad for row in rows)
        predicted = sum(
            (
                row.pd_sum + (row.loans - row.pd_count) * representative_pd(row.grade, policy)
                for row in rows
            ),
            Decimal(0),
        )
        outcomes.append(GradeOutcome(
            grade=key,
            loans=loans,
            bad=bad,
            realised_default_rate=_rate(bad, loans),
            predicted_default_rate=_rate(predicted, loans),
        ))  # fmt: skip
    return outcomes


def _total(outcomes: Sequence[GradeOutcome]) -> GradeOutcome | None:
    loans = sum(item.loans for item in outcomes)
    if not loans:
        return None
    bad = sum(item.bad for item in outcomes)
    predicted = sum((item.predicted_default_rate * item.loans for item in outcomes), Decimal(0))
    return GradeOutcome(
        grade="all",
        loans=loans,
        bad=bad,
        realised_default_rate=_rate(bad, loans),
        predicted_default_rate=_rate(predicted, loans),
    )


@dataclass(frozen=True, slots=True)
class PortfolioRisk:
    """One sub-grade of a lender's book: predicted against realised default."""

    predicted_default_rate: Decimal  # mean 12-month PD predicted for every loan booked
    loans_a_year_on_book: int
    realised_default_rate: Decimal | None  # bad within 12 months, of those; None without any


async def portfolio_risk(
    session: AsyncSession, *, lender_id: uuid.UUID, as_of: date, policy: RiskPolicy
) -> dict[str, PortfolioRisk]:
    """Predicted and realised default by sub-grade of one lender's loans."""
    figures = {}
    for row in await repository.lender_performance_by_grade(
        session, as_of=as_of, lender_id=lender_id
    ):
        predicted = row.booked_pd_sum + (row.booked - row.booked_pd_count) * representative_pd(
            row.grade, policy
        )
        figures[row.grade] = PortfolioRisk(
            predicted_default_rate=_rate(predicted, row.booked),
            loans_a_year_on_book=row.loans,
            realised_default_rate=_rate(row.bad, row.loans) if row.loans else None,
        )
    return figures


def month_of(as_of: date) -> tuple[datetime, datetime]:
    """From the first of ``as_of``'s month to the end of ``as_of`` (UTC)."""
    start = datetime.combine(as_of.replace(day=1), time.min, tzinfo=UTC)
    return start, datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)


async def build(
    session: AsyncSession, *, as_of: date, policy: RiskPolicy, champion: Scorecard
) -> MonitorReportPublic:
    """The monitoring figures of ``champion`` (the card in service) as of the end of ``as_of``
    (nothing is stored)."""
    performance = await repository.performance_by_grade_for_platform(session, as_of=as_of)
    outcomes = grade_outcomes(performance, policy)
    since, until = month_of(as_of)
    scores = await repository.decided_scores(
        session, version=champion.version, since=since, until=until
    )
    bands = champion.score_distribution
    psi = population_stability_index(bands, scores)
    counts = band_counts(bands, scores)
    expected_total = sum((band.share for band in bands), Decimal(0))
    return MonitorReportPublic(
        as_of=as_of,
        scorecard_version=champion.version,
        bad_definition=BAD_DEFINITION,
        loans_booked=await repository.loans_booked(session, as_of=as_of),
        loans_observed=sum(item.loans for item in outcomes),
        grades=outcomes,
        total=_total(outcomes),
        applications_scored=len(scores),
        psi=psi,
        stability=stability_verdict(psi),
        score_bands=[
            ScoreBandShare(
                lower=band.lower,
                upper=band.upper,
                expected_share=(band.share / expected_total).quantize(RATE),
                actual_share=_rate(count, len(scores)),
            )
            for band, count in zip(bands, counts, strict=True)
        ],
        challenger=_challenger(await repository.shadow_pairs(session, since=since, until=until)),
    )


def _challenger(
    pairs: Sequence[tuple[str | None, str, Decimal | None, str | None, Decimal | None, str]],
) -> ChallengerComparison | None:
    if not pairs:
        return None
    latest = pairs[-1][1]
    rows = [pair for pair in pairs if pair[1] == latest]
    champion_pds = [pd for _, _, pd, _, _, _ in rows if pd is not None]
    challenger_pds = [pd for _, _, _, _, pd, _ in rows if pd is not None]

    def mean(values: list[Decimal]) -> Decimal | None:
        return (sum(values, Decimal(0)) / len(values)).quantize(RATE) if values else None

    return ChallengerComparison(
        version=latest,
        applications=len(rows),
        mean_pd_champion=mean(champion_pds),
        mean_pd_challenger=mean(challenger_pds),
        same_grade_letter=sum(
            1 for _, _, _, grade, _, shadow in rows if grade and shadow and grade[0] == shadow[0]
        ),
        approved_by_champion_only=sum(
            1 for _, _, _, grade, _, shadow in rows if grade and not shadow
        ),
        approved_by_challenger_only=sum(
            1 for _, _, _, grade, _, shadow in rows if shadow and not grade
        ),
    )


async def run(
    session: AsyncSession, *, as_of: date, policy: RiskPolicy, champion: Scorecard
) -> MonitorReportPublic:
    """Build the report as of ``as_of`` and store it (a rerun replaces that day's)."""
    report = await build(session, as_of=as_of, policy=policy, champion=champion)
    await repository.save_report(
        session,
        as_of=as_of,
        version=report.scorecard_version,
        figures=report.model_dump(mode="json"),
        now=utcnow(),
    )
    event(
        "risk.monitored",
        as_of=as_of.isoformat(),
        loans_observed=report.loans_observed,
        psi=None if report.psi is None else str(report.psi),
    )
    return report


async def latest(session: AsyncSession) -> MonitorReportPublic | None:
    row = await repository.latest_report(session)
    return None if row is None else MonitorReportPublic.model_validate(row.figures)
