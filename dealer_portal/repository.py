"""SQL for deals and walk-in claims. Every state change is one conditional UPDATE … RETURNING:
of two racing callers, exactly one gets the row back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.models import DealerDeal, DealStatus, DownPaymentStatus, WalkInClaim
from marketplace.products.models import ProductVersion
from shared import pii
from shared.identity.models import User, UserKind


async def get_deal(
    session: AsyncSession, deal_id: uuid.UUID, *, dealer_id: uuid.UUID | None = None
) -> DealerDeal | None:
    statement = select(DealerDeal).where(col(DealerDeal.id) == deal_id)
    if dealer_id is not None:
        statement = statement.where(col(DealerDeal.dealer_id) == dealer_id)
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
    conditions: list[ColumnElement[bool]] = [col(DealerDeal.dealer_id) == dealer_id]
    if status is not None:
        conditions.append(col(DealerDeal.status) == status)
    total = (
        await session.execute(select(func.count()).select_from(DealerDeal).where(*conditions))
    ).scalar_one()
    rows = await session.execute(
        select(DealerDeal)
        .where(*conditions)
        .order_by(col(DealerDeal.created_at).desc(), col(DealerDeal.id))
        .limit(limit)
        .offset(offset)
    )
    return rows.scalars().all(), int(total)


async def update_deal(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    where: Sequence[ColumnElement[bool]],
    values: dict[str, Any],
    now: datetime,
) -> DealerDeal | None:
    """Apply ``values`` to the deal only if ``where`` holds now; the updated row, or None."""
    result = await session.execute(
        update(DealerDeal)
        .where(col(DealerDeal.id) == deal_id, *where)
        .values(**values, updated_at=now)
        .returning(DealerDeal)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return result.scalar_one_or_none()


async def deals_awaiting_down_payment(
    session: AsyncSession, *, changed_before: datetime, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """Confirmed deals (any dealer: the reconciliation's view) whose down payment was asked for
    and not yet seen paid, unchanged since ``changed_before``: ``(deal_id, payment_intent_id)``."""
    rows = await session.execute(
        select(col(DealerDeal.id), col(DealerDeal.payment_intent_id))
        .where(
            col(DealerDeal.status) == DealStatus.confirmed.value,
            down_payment_is(DownPaymentStatus.requested, DownPaymentStatus.failed),
            col(DealerDeal.payment_intent_id).is_not(None),
            col(DealerDeal.updated_at) < changed_before,
        )
        .order_by(col(DealerDeal.updated_at))
        .limit(limit)
    )
    return [(deal_id, str(intent_id)) for deal_id, intent_id in rows.all()]


async def deals_owed_a_refund(session: AsyncSession, *, limit: int) -> list[tuple[uuid.UUID, str]]:
    """Cancelled deals (any dealer) whose down payment arrived after the cancellation and was
    not refunded yet: ``(deal_id, payment_intent_id)``."""
    rows = await session.execute(
        select(col(DealerDeal.id), col(DealerDeal.payment_intent_id))
        .where(
            col(DealerDeal.status) == DealStatus.cancelled.value,
            col(DealerDeal.down_payment_status) == DownPaymentStatus.refund_due.value,
            col(DealerDeal.refund_id).is_(None),
            col(DealerDeal.payment_intent_id).is_not(None),
        )
        .order_by(col(DealerDeal.updated_at))
        .limit(limit)
    )
    return [(deal_id, str(intent_id)) for deal_id, intent_id in rows.all()]


def status_is(*statuses: DealStatus) -> ColumnElement[bool]:
    return col(DealerDeal.status).in_([s.value for s in statuses])


def down_payment_is(*statuses: DownPaymentStatus) -> ColumnElement[bool]:
    return col(DealerDeal.down_payment_status).in_([s.value for s in statuses])


async def buyer(session: AsyncSession, buyer_id: uuid.UUID) -> User | None:
    return await session.get(User, buyer_id)


async def buyer_names(
    session: AsyncSession, buyer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(col(User.id), col(User.full_name)).where(col(User.id).in_(buyer_ids))
    )
    return {row[0]: row[1] for row in rows}


async def auto_funds(session: AsyncSession, product_version_id: uuid.UUID) -> bool:
    result = await session.execute(
        select(col(ProductVersion.auto_fund)).where(col(ProductVersion.id) == product_version_id)
    )
    return bool(result.scalar_one())


# -- walk-ins ------------------------------------------------------------------------------------


async def replace_claim(session: AsyncSession, claim: WalkInClaim) -> None:
    """Store ``claim`` as the account's one live claim code (replacing an earlier one)."""
    await session.execute(
        insert(WalkInClaim)
        .values(
            id=claim.id,
            user_id=claim.user_id,
            dealer_id=claim.dealer_id,
            application_id=claim.application_id,
            code_hash=claim.code_hash,
            expires_at=claim.expires_at,
            used_at=None,
            created_at=claim.created_at,
        )
        .on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "dealer_id": claim.dealer_id,
                "application_id": claim.application_id,
                "code_hash": claim.code_hash,
                "expires_at": claim.expires_at,
                "used_at": None,
                "created_at": claim.created_at,
            },
        )
    )


async def use_claim(
    session: AsyncSession, *, phone: str, code_hash: str, now: datetime
) -> uuid.UUID | None:
    """Mark the live claim matching phone and code used; the account's id, or None.

    Conditional on ``used_at IS NULL`` and the account still passwordless: a code works once.
    """
    unclaimed_user = select(col(User.id)).where(
        col(User.phone_hash) == pii.lookup_hash(phone),
        col(User.kind) == UserKind.buyer,
        col(User.password_hash).is_(None),
    )
    result = await session.execute(
        update(WalkInClaim)
        .where(
            col(WalkInClaim.code_hash) == code_hash,
            col(WalkInClaim.used_at).is_(None),
            col(WalkInClaim.expires_at) > now,
            col(WalkInClaim.user_id).in_(unclaimed_user),
        )
        .values(used_at=now)
        .returning(col(WalkInClaim.user_id))
    )
    return result.scalar_one_or_none()


async def set_credentials(
    session: AsyncSession, user_id: uuid.UUID, *, email: str, password_hash: str
) -> bool:
    """Give a passwordless account its email and password; False if it already has one."""
    result = await session.execute(
        update(User)
        .where(col(User.id) == user_id, col(User.password_hash).is_(None))
        .values(email=email, password_hash=password_hash)
        .returning(col(User.id))
    )
    return result.scalar_one_or_none() is not None
