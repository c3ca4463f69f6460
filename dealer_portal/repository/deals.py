"""SQL for deals: the dealer's deal and pipelines (each scoped by its tenant as a required
argument), and the conditional UPDATE … RETURNING every change of a deal goes through, with the
changes of its lifecycle before the money moves (``confirm_quoted``, ``cancel_open``,
``attach_loan``): of two racing callers, exactly one gets the row back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.models import DealerDeal, DealStatus, DownPaymentStatus
from marketplace.products.models import ProductVersion
from shared.pagination import paginate
from shared.writes import Write, adopt, insert_of, send


async def insert_deal(session: AsyncSession, deal: DealerDeal, *, along: Sequence[Write]) -> None:
    """Insert a new deal, and ``along`` (its audit entries), in one statement; the deal then
    belongs to the session."""
    await send(session, insert_of(deal, prefix="deal"), *along)
    adopt(session, deal)


async def get_deal(
    session: AsyncSession, deal_id: uuid.UUID, *, dealer_id: uuid.UUID
) -> DealerDeal | None:
    """The dealer's deal (another dealer's is None, as if it did not exist)."""
    statement = select(DealerDeal).where(
        col(DealerDeal.id) == deal_id, col(DealerDeal.dealer_id) == dealer_id
    )
    result = await session.execute(statement.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def list_deals(
    session: AsyncSession,
    dealer_id: uuid.UUID,
    *,
    status: DealStatus | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[DealerDeal], int]:
    return await _deal_page(
        session, col(DealerDeal.dealer_id) == dealer_id, status=status, limit=limit, offset=offset
    )


async def list_lender_deals(
    session: AsyncSession,
    lender_id: uuid.UUID,
    *,
    status: DealStatus | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[DealerDeal], int]:
    """Deals on the lender's products, at any dealer, newest first."""
    return await _deal_page(
        session, col(DealerDeal.lender_id) == lender_id, status=status, limit=limit, offset=offset
    )


async def _deal_page(
    session: AsyncSession,
    tenant: ColumnElement[bool],
    *,
    status: DealStatus | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[DealerDeal], int]:
    conditions: list[ColumnElement[bool]] = [tenant]
    if status is not None:
        conditions.append(col(DealerDeal.status) == status)
    statement = (
        select(DealerDeal)
        .where(*conditions)
        .order_by(col(DealerDeal.created_at).desc(), col(DealerDeal.id))
    )
    return await paginate(session, statement, limit=limit, offset=offset)


async def update_where(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    where: Sequence[ColumnElement[bool]],
    values: dict[str, Any],
    now: datetime,
) -> DealerDeal | None:
    """Apply ``values`` to the deal only if ``where`` holds now; the updated row, or None.
    The conditional update deal transitions go through (the intent-named methods here and in
    ``down_payments``, and the decision flow's, which name their own predicates); confirm's
    are built once instead (``confirm_quoted`` and ``down_payments.store_payment_intent``, which
    also return what confirm reads next, and ``attach_loan``)."""
    result = await session.execute(
        update(DealerDeal)
        .where(col(DealerDeal.id) == deal_id, *where)
        .values(**values, updated_at=now)
        .returning(DealerDeal)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return result.scalar_one_or_none()


class Confirmed(NamedTuple):
    """A deal just confirmed, with what its locked product version says happens next."""

    deal: DealerDeal
    auto_fund: bool
    auto_approve: dict[str, Any] | None


# Built once (its cache key is not rebuilt per request). The product version comes back with
# the row: versions are never updated, and a FROM table is not locked, so the deal's row stays
# the only lock this statement takes.
_CONFIRM_QUOTED = (
    update(DealerDeal)
    .where(
        col(DealerDeal.id) == bindparam("b_deal_id"),
        col(DealerDeal.dealer_id) == bindparam("b_dealer_id"),
        col(DealerDeal.status) == DealStatus.quoted.value,
        col(ProductVersion.id) == col(DealerDeal.product_version_id),
    )
    .values(
        status=DealStatus.confirmed.value,
        confirmed_at=bindparam("confirmed_now"),
        identity_verified_by=bindparam("verified_by"),
        down_payment_status=DownPaymentStatus.requested.value,
        updated_at=bindparam("updated_now"),
    )
    .returning(DealerDeal, col(ProductVersion.auto_fund), col(ProductVersion.auto_approve))
    .execution_options(synchronize_session=False, populate_existing=True)
)


async def confirm_quoted(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    dealer_id: uuid.UUID,
    verified_by: str,
    now: datetime,
) -> Confirmed | None:
    """``quoted → confirmed`` with the down payment asked for, and the deal's product terms;
    None unless it was quoted."""
    row = (
        await session.execute(
            _CONFIRM_QUOTED,
            {
                "b_deal_id": deal_id,
                "b_dealer_id": dealer_id,
                "verified_by": verified_by,
                "confirmed_now": now,
                "updated_now": now,
            },
        )
    ).first()
    return None if row is None else Confirmed(*row)


async def cancel_open(
    session: AsyncSession, deal_id: uuid.UUID, *, dealer_id: uuid.UUID, now: datetime
) -> DealerDeal | None:
    """``quoted | confirmed → cancelled``; a down payment no PaymentIntent was made for is voided
    in the same statement. None unless the deal was quoted or confirmed."""
    never_asked = and_(
        col(DealerDeal.confirmed_at).is_not(None), col(DealerDeal.payment_intent_id).is_(None)
    )
    return await update_where(
        session,
        deal_id,
        where=[
            col(DealerDeal.dealer_id) == dealer_id,
            status_is(DealStatus.quoted, DealStatus.confirmed),
        ],
        values={
            "status": DealStatus.cancelled,
            "cancelled_at": now,
            "down_payment_status": case(
                (never_asked, DownPaymentStatus.voided.value),
                else_=col(DealerDeal.down_payment_status),
            ),
        },
        now=now,
    )


async def status_of(session: AsyncSession, deal_id: uuid.UUID) -> str | None:
    """By deal id alone: for a step of a flow whose first step checked the deal's tenant."""
    result = await session.execute(
        select(col(DealerDeal.status)).where(col(DealerDeal.id) == deal_id)
    )
    return result.scalar_one_or_none()


_ATTACH_LOAN = (
    update(DealerDeal)
    .where(col(DealerDeal.id) == bindparam("b_deal_id"))
    .values(loan_id=bindparam("b_loan_id"), updated_at=bindparam("b_now"))
    .returning(DealerDeal)
    .execution_options(synchronize_session=False, populate_existing=True)
)


async def attach_loan(
    session: AsyncSession, deal_id: uuid.UUID, loan_id: uuid.UUID, now: datetime
) -> DealerDeal | None:
    """The booked loan on the deal that confirm's first step just confirmed (by deal id alone;
    built once, as confirm runs it on every request)."""
    result = await session.execute(
        _ATTACH_LOAN, {"b_deal_id": deal_id, "b_loan_id": loan_id, "b_now": now}
    )
    return result.scalar_one_or_none()


def status_is(*statuses: DealStatus) -> ColumnElement[bool]:
    return col(DealerDeal.status).in_([s.value for s in statuses])
