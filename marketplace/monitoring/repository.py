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
    WITH booked AS (
        SELECT l.id, l.grade, l.pd, l.status, l.closed_at,
               (l.loan_date + INTERVAL '12 months')::date AS window_end,
               l.loan_date + INTERVAL '12 months' <= :as_of AS seasoned
        FROM loans l
        WHERE l.status NOT IN ('cancelled', 'pending_funding')
          AND l.loan_date <= :as_of
          AND (CAST(:lender_id AS uuid) IS NULL OR l.lender_id = CAST(:lender_id AS uuid))
    )
    SELECT b.grade,
           count(*) FILTER (WHERE b.seasoned) AS loans,
           count(*) FILTER (WHERE b.seasoned AND (
               (b.status = 'charged_off' AND b.closed_at::date <= b.window_end)
               OR EXISTS (
                   SELECT 1 FROM loan_installments i
                   WHERE i.loan_id = b.id
                     AND i.due_date + 91 <= b.window_end
                     AND (i.paid_at IS NULL OR i.paid_at::date > i.due_date + 90)
               )
           )) AS bad,
           coalesce(sum(b.pd) FILTER (WHERE b.seasoned), 0) AS pd_sum,
           count(b.pd) FILTER (WHERE b.seasoned) AS pd_count,
           count(*) AS booked,
           coalesce(sum(b.pd), 0) AS booked_pd_sum,
           count(b.pd) AS booked_pd_count
    FROM booked b
    GROUP BY b.grade
    """
)


@dataclass(frozen=True, slots=True)
class GradePerformance:
    """Loans of one sub-grade: those a full year on book (``loans``), how many of them went
    bad and their predicted PDs; and every loan booked, with theirs."""

    grade: str
    loans: int
    bad: int
    pd_sum: Decimal  # over the loans a year on book whose PD was recorded
    pd_count: int
    booked: int = 0
    booked_pd_sum: Decimal = Decimal(0)
    booked_pd_count: int = 0


async def lender_performance_by_grade(
    session: AsyncSession, *, as_of: date, lender_id: uuid.UUID
) -> list[GradePerformance]:
    """Realised performance of the lender's loans booked by ``as_of``, by sub-grade; bad is
    counted only on loans booked at least 12 months before ``as_of``."""
    return await _performance_by_grade(session, as_of=as_of, lender_id=str(lender_id))


async def performance_by_grade_for_platform(
    session: AsyncSession, *, as_of: date
) -> list[GradePerformance]:
    """The same figures over every lender's loans, for the platform's own monitoring."""
    return await _performance_by_grade(session, as_of=as_of, lender_id=None)


async def _performance_by_grade(
    session: AsyncSession, *, as_of: date, lender_id: str | None
) -> list[GradePerformance]:
    rows = await session.execute(_PERFORMANCE, {"as_of": as_of, "lender_id": lender_id})
    return [
        GradePerformance(
            grade=str(row.grade),
            loans=int(row.loans),
            bad=int(row.bad),
            pd_sum=Decimal(row.pd_sum),
            pd_count=int(row.pd_count),
            booked=int(row.booked),
            booked_pd_sum=Decimal(row.booked_pd_sum),
            booked_pd_count=int(row.booked_pd_count),
        )
        for row in rows.all()
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
