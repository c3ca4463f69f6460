"""All SQL about loans' collateral records; every caller-facing read names its tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.collateral.models import CollateralStatus, LoanCollateral
from marketplace.servicing.models import Loan
from shared.db import utcnow

# The record of a loan that just became active, due its product's collateral_days after the
# funding date; nothing when the loan already has one (a retried activation).
_OPEN = text(
    """
    INSERT INTO loan_collateral (id, loan_id, lender_id, dealer_id, status, funded_on, due_on,
                                 created_at, updated_at)
    SELECT :id, loan.id, loan.lender_id, loan.dealer_id, 'awaiting', funded.on,
           funded.on + version.collateral_days, now(), now()
    FROM loans AS loan
    JOIN product_versions AS version ON version.id = loan.product_version_id
    CROSS JOIN LATERAL (
        SELECT CAST(COALESCE(loan.funded_at, now()) AT TIME ZONE 'UTC' AS date) AS on
    ) AS funded
    WHERE loan.id = :loan_id AND loan.status = 'active'
    ON CONFLICT (loan_id) DO NOTHING
    """
)


async def open_for_loan(session: AsyncSession, loan_id: uuid.UUID) -> None:
    """Create the awaiting record of an active loan (once: a second call changes nothing)."""
    await session.execute(_OPEN, {"id": uuid.uuid4(), "loan_id": loan_id})


async def _one(session: AsyncSession, *where: Any) -> LoanCollateral | None:
    query = select(LoanCollateral).where(*where).execution_options(populate_existing=True)
    return (await session.execute(query)).scalars().one_or_none()


async def of_loan_for_platform(session: AsyncSession, loan_id: uuid.UUID) -> LoanCollateral | None:
    """A loan's record, for the platform's own steps (payoff), never a caller's read."""
    return await _one(session, col(LoanCollateral.loan_id) == loan_id)


async def lender_record(
    session: AsyncSession, loan_id: uuid.UUID, *, lender_id: uuid.UUID
) -> LoanCollateral | None:
    return await _one(
        session,
        col(LoanCollateral.loan_id) == loan_id,
        col(LoanCollateral.lender_id) == lender_id,
    )


async def buyer_record(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID
) -> LoanCollateral | None:
    """The record of the buyer's own loan (another buyer's is None)."""
    own_loans = select(col(Loan.id)).where(col(Loan.buyer_id) == buyer_id)
    return await _one(
        session,
        col(LoanCollateral.loan_id) == loan_id,
        col(LoanCollateral.loan_id).in_(own_loans),
    )


async def dealer_record(
    session: AsyncSession, loan_id: uuid.UUID, *, dealer_id: uuid.UUID
) -> LoanCollateral | None:
    return await _one(
        session,
        col(LoanCollateral.loan_id) == loan_id,
        col(LoanCollateral.dealer_id) == dealer_id,
    )


async def dealer_transition(
    session: AsyncSession,
    loan_id: uuid.UUID,
    *,
    dealer_id: uuid.UUID,
    expected: CollateralStatus,
    new: CollateralStatus,
    **values: Any,
) -> LoanCollateral | None:
    """``expected → new`` with ``values`` on the dealer's own record, only if it is still
    ``expected``; the updated record, or None (another dealer's is never changed)."""
    return await _transition(
        session,
        loan_id,
        col(LoanCollateral.dealer_id) == dealer_id,
        expected=expected,
        new=new,
        **values,
    )


async def transition_for_platform(
    session: AsyncSession,
    loan_id: uuid.UUID,
    *,
    expected: CollateralStatus,
    new: CollateralStatus,
    **values: Any,
) -> LoanCollateral | None:
    """``expected → new`` with ``values``, only if the record is still ``expected``, for the
    platform's own steps (payoff), never a caller's change; the updated record, or None."""
    return await _transition(session, loan_id, expected=expected, new=new, **values)


async def _transition(
    session: AsyncSession,
    loan_id: uuid.UUID,
    *tenant: Any,
    expected: CollateralStatus,
    new: CollateralStatus,
    **values: Any,
) -> LoanCollateral | None:
    statement = (
        update(LoanCollateral)
        .where(
            col(LoanCollateral.loan_id) == loan_id,
            col(LoanCollateral.status) == expected.value,
            *tenant,
        )
        .values(status=new.value, updated_at=utcnow(), **values)
        .returning(LoanCollateral)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalars().one_or_none()


async def flag_overdue(
    session: AsyncSession, *, as_of: date, now: datetime
) -> Sequence[LoanCollateral]:
    """Flag every awaiting registration due before ``as_of`` and not flagged yet; the rows this
    statement flagged. A concurrent run waits on the rows' locks and then finds them flagged
    (READ COMMITTED re-checks the condition), so each row is flagged by exactly one run."""
    statement = (
        update(LoanCollateral)
        .where(
            col(LoanCollateral.status) == CollateralStatus.awaiting.value,
            col(LoanCollateral.overdue_at).is_(None),
            col(LoanCollateral.due_on) < as_of,
        )
        .values(overdue_at=now, updated_at=now)
        .returning(LoanCollateral)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(statement)).scalars().all())


async def lender_page(
    session: AsyncSession,
    *,
    lender_id: uuid.UUID,
    status: CollateralStatus | None,
    overdue: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[LoanCollateral], int]:
    """The lender's records, soonest due first, optionally of one status and/or overdue only."""
    where: list[Any] = [col(LoanCollateral.lender_id) == lender_id]
    if status is not None:
        where.append(col(LoanCollateral.status) == status.value)
    if overdue is not None:
        flagged = col(LoanCollateral.status) == CollateralStatus.awaiting.value
        flagged = flagged & col(LoanCollateral.overdue_at).is_not(None)
        where.append(flagged if overdue else ~flagged)
    total = await session.scalar(select(func.count()).select_from(LoanCollateral).where(*where))
    rows = await session.execute(
        select(LoanCollateral)
        .where(*where)
        .order_by(col(LoanCollateral.due_on), col(LoanCollateral.id))
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars().all()), int(total or 0)
