"""The lender's portfolio: its loans' performance by grade, with the platform's guaranteed
exposure and the delinquency buckets."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing import repository
from marketplace.servicing.models import Bucket, LoanStatus
from shared.identity.principal import Principal

BUCKETS = tuple(bucket.value for bucket in Bucket)


@dataclass
class GradeFigures:
    grade: str
    count: int = 0
    active: int = 0
    paid_off: int = 0
    charged_off: int = 0
    outstanding_balance: int = 0
    guaranteed_outstanding: int = 0
    buckets: dict[str, int] | None = None

    @property
    def default_rate(self) -> Decimal:
        """Realised: loans charged off ÷ loans booked."""
        if not self.count:
            return Decimal(0)
        return (Decimal(self.charged_off) / self.count).quantize(Decimal("0.0001"))


async def portfolio(session: AsyncSession, lender: Principal) -> list[GradeFigures]:
    """Performance of the lender's loans by grade (P4: with the platform's guaranteed exposure)."""
    figures: dict[str, GradeFigures] = {}
    for grade, status, bucket, guaranteed, count, balance in await repository.portfolio_groups(
        session, lender.org_id
    ):
        grade_figures = figures.setdefault(
            grade, GradeFigures(grade, buckets=dict.fromkeys(BUCKETS, 0))
        )
        assert grade_figures.buckets is not None
        grade_figures.count += count
        if status == LoanStatus.active:
            grade_figures.active += count
            grade_figures.outstanding_balance += balance
            grade_figures.buckets[bucket] = grade_figures.buckets.get(bucket, 0) + count
            if guaranteed:
                grade_figures.guaranteed_outstanding += balance
        elif status == LoanStatus.paid_off:
            grade_figures.paid_off += count
        elif status == LoanStatus.charged_off:
            grade_figures.charged_off += count
    return [figures[grade] for grade in sorted(figures)]
