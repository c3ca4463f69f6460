"""SQL for a deal's down payment, found by deal id or by our own PaymentIntent id (Stripe's
events, the reconciliation and the payment page have no tenant to name; the confirm that stores
the intent checked the dealer first): the intent stored, paid (handing the car over, or waiting
for the lender), failed, owed back, refunded; and the deals the reconciliation checks at
Stripe. Each change is one conditional UPDATE … RETURNING (``deals.update_where``, or built once
for confirm's ``store_payment_intent``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.models import DealerDeal, DealStatus, DownPaymentStatus
from dealer_portal.repository.deals import status_is, update_where
from shared.identity.models import User
from shared.writes import Write, with_writes


class StoredIntent(NamedTuple):
    """A deal that now holds its down payment's PaymentIntent, and its buyer's name."""

    deal: DealerDeal
    buyer_name: str


# Built once; the buyer's name comes back with the row, for confirm's answer (a users row is
# read, not locked).
_STORE_PAYMENT_INTENT = (
    update(DealerDeal)
    .where(
        col(DealerDeal.id) == bindparam("b_deal_id"),
        status_is(DealStatus.confirmed, DealStatus.handed_over),
        or_(
            col(DealerDeal.payment_intent_id).is_(None),
            col(DealerDeal.payment_intent_id) == bindparam("b_payment_intent_id"),
        ),
    )
    .values(payment_intent_id=bindparam("b_payment_intent_id"), updated_at=bindparam("b_now"))
    .returning(
        DealerDeal,
        select(col(User.full_name))
        .where(col(User.id) == col(DealerDeal.buyer_id))
        .scalar_subquery(),
    )
    .execution_options(synchronize_session=False, populate_existing=True)
)


async def store_payment_intent(
    session: AsyncSession,
    deal_id: uuid.UUID,
    payment_intent_id: str,
    now: datetime,
    *,
    along: Sequence[Write] = (),
) -> StoredIntent | None:
    """Keep the down payment's PaymentIntent on a confirmed (or handed-over) deal that holds no
    other one; None otherwise (cancelled meanwhile, or another intent). ``along``: INSERTs
    sent in the same statement (as CTEs) whatever it finds, so the caller rolls back if None."""
    statement, parameters = with_writes(
        _STORE_PAYMENT_INTENT,
        {"b_deal_id": deal_id, "b_payment_intent_id": payment_intent_id, "b_now": now},
        along,
    )
    row = (await session.execute(statement, parameters)).first()
    return None if row is None else StoredIntent(row[0], row[1] or "")


async def mark_handed_over(
    session: AsyncSession, deal_id: uuid.UUID, *, payment_intent_id: str, amount: int, now: datetime
) -> DealerDeal | None:
    """``confirmed → handed_over`` when this intent paid the down payment of a deal on a product
    that auto-funds (no lender decision); else None."""
    return await update_where(
        session,
        deal_id,
        where=[
            status_is(DealStatus.confirmed),
            col(DealerDeal.decision_status).is_(None),
            *_unpaid_by(payment_intent_id, amount),
        ],
        values={
            "status": DealStatus.handed_over,
            "handed_over_at": now,
            **_paid_by(payment_intent_id, now),
        },
        now=now,
    )


async def mark_down_payment_paid(
    session: AsyncSession, deal_id: uuid.UUID, *, payment_intent_id: str, amount: int, now: datetime
) -> DealerDeal | None:
    """The down payment of a deal that waits for its lender is paid: the deal stays confirmed
    until the decision and the signed contract are there too; else None."""
    return await update_where(
        session,
        deal_id,
        where=[
            status_is(DealStatus.confirmed),
            col(DealerDeal.decision_status).is_not(None),
            *_unpaid_by(payment_intent_id, amount),
        ],
        values=_paid_by(payment_intent_id, now),
        now=now,
    )


async def mark_refund_due(
    session: AsyncSession, deal_id: uuid.UUID, *, payment_intent_id: str, amount: int, now: datetime
) -> DealerDeal | None:
    """A cancelled deal's down payment was paid after all: the money is owed back."""
    return await update_where(
        session,
        deal_id,
        where=[status_is(DealStatus.cancelled), *_unpaid_by(payment_intent_id, amount)],
        values={"down_payment_status": DownPaymentStatus.refund_due, "down_payment_paid_at": now},
        now=now,
    )


async def mark_down_payment_failed(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    payment_intent_id: str,
    code: str,
    message: str | None,
    now: datetime,
) -> DealerDeal | None:
    """The buyer's payment failed: the confirmed deal shows why (and may still be paid)."""
    return await update_where(
        session,
        deal_id,
        where=[
            status_is(DealStatus.confirmed),
            _down_payment_is(DownPaymentStatus.requested, DownPaymentStatus.failed),
            _same_intent(payment_intent_id),
        ],
        values={
            "down_payment_status": DownPaymentStatus.failed,
            "down_payment_failure_code": code,
            "down_payment_failure_message": message,
        },
        now=now,
    )


async def store_refund(
    session: AsyncSession, deal_id: uuid.UUID, *, refund_id: str | None, now: datetime
) -> DealerDeal | None:
    """A cancelled deal's down payment refunded (or, without a refund, its intent cancelled):
    once; None if it was already recorded."""
    values: dict[str, Any] = (
        {"down_payment_status": DownPaymentStatus.voided}
        if refund_id is None
        else {"down_payment_status": DownPaymentStatus.refunded, "refund_id": refund_id}
    )
    return await update_where(
        session,
        deal_id,
        where=[status_is(DealStatus.cancelled), col(DealerDeal.refund_id).is_(None)],
        values=values,
        now=now,
    )


def _down_payment_is(*statuses: DownPaymentStatus) -> ColumnElement[bool]:
    return col(DealerDeal.down_payment_status).in_([s.value for s in statuses])


def _same_intent(payment_intent_id: str) -> ColumnElement[bool]:
    return or_(
        col(DealerDeal.payment_intent_id).is_(None),
        col(DealerDeal.payment_intent_id) == payment_intent_id,
    )


def _unpaid_by(payment_intent_id: str, amount: int) -> list[ColumnElement[bool]]:
    """Still waiting for a down payment of ``amount`` that this intent may be paying."""
    return [
        _down_payment_is(DownPaymentStatus.requested, DownPaymentStatus.failed),
        col(DealerDeal.down_payment_amount) == amount,
        _same_intent(payment_intent_id),
    ]


def _paid_by(payment_intent_id: str, now: datetime) -> dict[str, Any]:
    """The down payment paid by this intent, any earlier failure of it cleared."""
    return {
        "down_payment_status": DownPaymentStatus.paid,
        "down_payment_paid_at": now,
        "payment_intent_id": payment_intent_id,
        "down_payment_failure_code": None,
        "down_payment_failure_message": None,
    }


async def deals_awaiting_down_payment(
    session: AsyncSession, *, changed_before: datetime, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """Confirmed deals (any dealer: the reconciliation's view) whose down payment was asked for
    and not yet seen paid, unchanged since ``changed_before``: ``(deal_id, payment_intent_id)``."""
    rows = await session.execute(
        select(col(DealerDeal.id), col(DealerDeal.payment_intent_id))
        .where(
            col(DealerDeal.status) == DealStatus.confirmed.value,
            _down_payment_is(DownPaymentStatus.requested, DownPaymentStatus.failed),
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


async def deal_paid_by(session: AsyncSession, *, payment_intent_id: str) -> DealerDeal | None:
    """The deal whose down payment this PaymentIntent is, for the payment page: its caller
    proved the intent's client secret, which scopes it to this one deal."""
    result = await session.execute(
        select(DealerDeal).where(col(DealerDeal.payment_intent_id) == payment_intent_id)
    )
    return result.scalar_one_or_none()
