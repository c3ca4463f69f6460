"""Collections' SQL for the platform guarantee: the reserve's provisioning, its entries, claims and
recoveries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.collections.models import (
    GuaranteeClaim,
    GuaranteeEntry,
    GuaranteeEntryType,
)
from marketplace.servicing.models import (
    LedgerEntry,
    LedgerEntryType,
    Loan,
    LoanStatus,
)
from shared.db import utcnow
from shared.pagination import paginate


async def provision_reserve(session: AsyncSession, *, ratio: Decimal, as_of: date) -> int:
    """Set aside ``ratio`` of the principal of every guaranteed loan funded by ``as_of`` that
    has no provision yet, in one statement; how many were provisioned."""
    result = await session.execute(
        text(
            "INSERT INTO guarantee_ledger"
            " (entry_key, entry_type, loan_id, lender_id, amount, effective_date, created_at)"
            " SELECT 'provision:' || l.id, :entry_type, l.id, l.lender_id,"
            " round(l.principal * CAST(:ratio AS numeric)), CAST(l.funded_at AS date), now()"
            " FROM loans AS l"
            " WHERE l.platform_guarantee AND l.funded_at IS NOT NULL"
            " AND CAST(l.funded_at AS date) <= :as_of"
            " AND NOT EXISTS (SELECT 1 FROM guarantee_ledger AS g"
            " WHERE g.entry_key = 'provision:' || l.id)"
            " ORDER BY l.id"  # two runs insert in one order: they queue, never deadlock
            " ON CONFLICT (entry_key) DO NOTHING"
        ),
        {"entry_type": GuaranteeEntryType.provision.value, "ratio": ratio, "as_of": as_of},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def mirror_recoveries(session: AsyncSession) -> int:
    """Credit the reserve with every recovery on a loan whose claim was paid (the platform
    holds the claim on the buyer from then on); how many were new."""
    result = await session.execute(
        text(
            "INSERT INTO guarantee_ledger"
            " (entry_key, entry_type, loan_id, lender_id, amount, effective_date, created_at)"
            " SELECT 'recovery:' || e.payment_id, :entry_type, c.loan_id, c.lender_id,"
            " e.amount, e.effective_date, now()"
            " FROM loan_ledger AS e JOIN guarantee_claims AS c ON c.loan_id = e.loan_id"
            " WHERE e.entry_type = :recovery"
            " ORDER BY e.payment_id"
            " ON CONFLICT (entry_key) DO NOTHING"
        ),
        {
            "entry_type": GuaranteeEntryType.recovery.value,
            "recovery": LedgerEntryType.recovery.value,
        },
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def add_guarantee_entry(session: AsyncSession, entry: GuaranteeEntry) -> bool:
    result = await session.execute(
        insert(GuaranteeEntry)
        .values(
            entry_key=entry.entry_key,
            entry_type=entry.entry_type.value,
            loan_id=entry.loan_id,
            lender_id=entry.lender_id,
            amount=entry.amount,
            effective_date=entry.effective_date,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["entry_key"])
        .returning(col(GuaranteeEntry.id))
    )
    return result.scalar_one_or_none() is not None


@dataclass(frozen=True)
class ReserveFigures:
    provisioned: int
    claims_paid: int
    recovered: int
    claims_count: int

    @property
    def reserve(self) -> int:
        return self.provisioned - self.claims_paid + self.recovered


async def lender_reserve_figures(session: AsyncSession, *, lender_id: uuid.UUID) -> ReserveFigures:
    """The reserve's entries for the lender's own loans, summed by type."""
    return await _reserve_figures(session, col(GuaranteeEntry.lender_id) == lender_id)


async def reserve_figures_for_platform(session: AsyncSession) -> ReserveFigures:
    """The reserve's entries over every lender's loans, summed by type (the admin's view)."""
    return await _reserve_figures(session)


async def _reserve_figures(session: AsyncSession, *tenant: ColumnElement[bool]) -> ReserveFigures:
    query = (
        select(col(GuaranteeEntry.entry_type), func.sum(col(GuaranteeEntry.amount)), func.count())
        .where(*tenant)
        .group_by(col(GuaranteeEntry.entry_type))
    )
    sums = {
        str(kind): (int(total), int(count))
        for kind, total, count in (await session.execute(query)).all()
    }
    claims = sums.get(GuaranteeEntryType.claim.value, (0, 0))
    return ReserveFigures(
        provisioned=sums.get(GuaranteeEntryType.provision.value, (0, 0))[0],
        claims_paid=-claims[0],
        recovered=sums.get(GuaranteeEntryType.recovery.value, (0, 0))[0],
        claims_count=claims[1],
    )


async def guaranteed_exposure(session: AsyncSession) -> tuple[int, int]:
    """Active guaranteed loans and their ledger balance: what the guarantee stands behind."""
    balance = (
        select(func.coalesce(func.sum(col(LedgerEntry.amount)), 0))
        .where(col(LedgerEntry.loan_id) == col(Loan.id))
        .scalar_subquery()
    )
    count, total = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(balance), 0)).where(
                col(Loan.platform_guarantee).is_(True),
                col(Loan.status) == LoanStatus.active.value,
            )
        )
    ).one()
    return int(count), int(total)


async def recent_claims(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[GuaranteeClaim], int]:
    statement = select(GuaranteeClaim).order_by(
        col(GuaranteeClaim.created_at).desc(), col(GuaranteeClaim.id)
    )
    return await paginate(session, statement, limit=limit, offset=offset)
