"""The dealer's collateral records with the deals they belong to."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.models import DealerDeal
from marketplace.collateral.models import CollateralStatus, LoanCollateral


async def dealer_page(
    session: AsyncSession,
    *,
    dealer_id: uuid.UUID,
    status: CollateralStatus | None,
    overdue: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[LoanCollateral, uuid.UUID, str]], int]:
    """The dealer's records with each one's deal id and VIN, soonest due first."""
    where: list[Any] = [
        col(LoanCollateral.dealer_id) == dealer_id,
        col(DealerDeal.dealer_id) == dealer_id,
    ]
    if status is not None:
        where.append(col(LoanCollateral.status) == status.value)
    if overdue is not None:
        flagged = (col(LoanCollateral.status) == CollateralStatus.awaiting.value) & col(
            LoanCollateral.overdue_at
        ).is_not(None)
        where.append(flagged if overdue else ~flagged)
    joined = select(LoanCollateral, col(DealerDeal.id), col(DealerDeal.vin)).join(
        DealerDeal, col(DealerDeal.loan_id) == col(LoanCollateral.loan_id)
    )
    total = await session.scalar(
        select(func.count())
        .select_from(LoanCollateral)
        .join(DealerDeal, col(DealerDeal.loan_id) == col(LoanCollateral.loan_id))
        .where(*where)
    )
    rows = await session.execute(
        joined.where(*where)
        .order_by(col(LoanCollateral.due_on), col(LoanCollateral.id))
        .limit(limit)
        .offset(offset)
    )
    return [(record, deal_id, vin) for record, deal_id, vin in rows.all()], int(total or 0)
