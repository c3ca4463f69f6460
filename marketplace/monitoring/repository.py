"""SQL of risk monitoring: the booked loans' realised performance by grade, the month's
application scores, the challenger beside the champion, and the stored reports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.applications.models import Application, ApplicationStatus
from marketplace.monitoring.models import MonitorReport

# A loan is bad when, within its first 12 months, it was charged off or an instalment stayed
# unpaid beyond 90 days (the "90+" bucket: 91 days past due). Only loans a full year on book
# by ``as_of`` are observed, so every one had the same chance to go bad.
_PERFORMANCE = text(
    """
    WITH observed AS (
        SELECT l.id, l.grade, l.pd,
               (l.loan_date + INTERVAL '12 months')::date AS window_end,
               l.status, l.closed_at
        FROM loans l
        WHERE l.status NOT IN ('cancelled', 'pending_funding')
          AND l.loan_date + INTERVAL '12 months' <= :as_of
          AND (CAST(:lender_id AS uuid) IS NULL OR l.lender_id = CAST(:lender_id AS uuid))
    )
    SELECT o.grade,
           count(*) AS loans,
           count(*) FILTER (WHERE
               (o.status = 'charged_off' AND o.closed_at::date <= o.window_end)
               OR EXISTS (
                   SELECT 1 FROM loan_installments i
                   WHERE i.loan_id = o.id
                     AND i.due_date + 91 <= o.window_end
                     AND (i.paid_at IS NULL OR i.paid_at::date > i.due_date + 90)
               )
           ) AS bad,
           coalesce(sum(o.pd), 0) AS pd_sum,
           count(o.pd) AS pd_count
    FROM observed o
    GROUP BY o.grade
    """
)


@dataclass(frozen=True, slots=True)
class GradePerformance:
    """Loans of one sub-grade a year on book: how many, how many went bad, their PDs."""

    grade: str
    loans: int
    bad: int
    pd_sum: Decimal  # over the loans whose PD was recorded
    pd_count: int


async def performance_by_grade(
    session: AsyncSession, *, as_of: date, lender_id: uuid.UUID | None = None
) -> list[GradePerformance]:
    """Realised performance of the loans booked at least 12 months before ``as_of`` (one
    lender's when given), by sub-grade."""
    rows = await session.execute(
        _PERFORMANCE, {"as_of": as_of, "lender_id": None if lender_id is None else str(lender_id)}
    )
    return [
        GradePerformance(str(grade), int(loans), int(bad), Decimal(pd_sum), int(pd_count))
        for grade, loans, bad, pd_sum, pd_count in rows.all()
    ]


async def loans_booked(session: AsyncSession, *, as_of: date) -> int:
    rows = await session.execute(
        text(
            "SELECT count(*) FROM loans WHERE status NOT IN ('cancelled', 'pending_funding') "
            "AND loan_date <= :as_of"
        ),
        {"as_of": as_of},
    )
    return int(rows.scalar_one())


async def decided_scores(
    session: AsyncSession, *, version: str, since: datetime, until: datetime
) -> list[int]:
    """The scores ``version`` gave the applications decided in ``[since, until)``."""
    rows = await session.execute(
        select(col(Application.score)).where(
            col(Application.status) == ApplicationStatus.decided.value,
            col(Application.scorecard_version) == version,
            col(Application.score).is_not(None),
            col(Application.decided_at) >= since,
            col(Application.decided_at) < until,
        )
    )
    return [int(score) for score in rows.scalars().all() if score is not None]


async def shadow_pairs(
    session: AsyncSession, *, since: datetime, until: datetime
) -> list[tuple[str | None, str, Decimal | None, str | None, Decimal | None, str]]:
    """(champion version, challenger version, champion PD, champion grade, challenger PD,
    challenger grade or '') of the applications decided in ``[since, until)`` with a shadow
    score."""
    rows = await session.execute(
        select(
            col(Application.scorecard_version),
            col(Application.challenger_version),
            col(Application.pd),
            col(Application.grade),
            col(Application.challenger_pd),
            col(Application.challenger_grade),
        ).where(
            col(Application.challenger_version).is_not(None),
            col(Application.decided_at) >= since,
            col(Application.decided_at) < until,
        )
    )
    return [
        (champion, str(challenger), pd, grade, shadow_pd, shadow_grade or "")
        for champion, challenger, pd, grade, shadow_pd, shadow_grade in rows.all()
    ]


async def save_report(
    session: AsyncSession, *, as_of: date, version: str, figures: dict[str, Any], now: datetime
) -> None:
    """Store the day's report; a rerun for the same day replaces it (concurrent runs are safe)."""
    statement = insert(MonitorReport).values(
        as_of=as_of, scorecard_version=version, figures=figures, created_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["as_of"],
            set_={"scorecard_version": version, "figures": figures, "created_at": now},
        )
    )


async def latest_report(session: AsyncSession) -> MonitorReport | None:
    rows = await session.execute(
        select(MonitorReport).order_by(col(MonitorReport.as_of).desc()).limit(1)
    )
    return rows.scalar_one_or_none()
