"""SQL for deals and walk-in claims. Every state change is one conditional UPDATE … RETURNING
named for what it does (``confirm_quoted``, ``mark_handed_over``…): of two racing callers,
exactly one gets the row back. A dealer's reads and changes take the dealer as a required
argument; the rest act by deal id alone and say so."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.models import DealerDeal, DealStatus, DownPaymentStatus, WalkInClaim
from marketplace.preapprovals.models import Preapproval
from shared import pii
from shared.identity.models import Organization, User, UserKind
from shared.pagination import paginate


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
    The one conditional update every deal transition goes through (the intent-named methods
    below, and the decision flow's, which name their own predicates)."""
    result = await session.execute(
        update(DealerDeal)
        .where(col(DealerDeal.id) == deal_id, *where)
        .values(**values, updated_at=now)
        .returning(DealerDeal)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return result.scalar_one_or_none()


async def confirm_quoted(
    session: AsyncSession,
    deal_id: uuid.UUID,
    *,
    dealer_id: uuid.UUID,
    verified_by: str,
    now: datetime,
) -> DealerDeal | None:
    """``quoted → confirmed`` with the down payment asked for; None unless it was quoted."""
    return await update_where(
        session,
        deal_id,
        where=[col(DealerDeal.dealer_id) == dealer_id, _status_is(DealStatus.quoted)],
        values={
            "status": DealStatus.confirmed,
            "confirmed_at": now,
            "identity_verified_by": verified_by,
            "down_payment_status": DownPaymentStatus.requested,
        },
        now=now,
    )


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
            _status_is(DealStatus.quoted, DealStatus.confirmed),
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


# -- by deal id alone: for steps of a flow whose tenant was checked by its first step, and for
# -- Stripe's events and the reconciliation, which find the deal from our own PaymentIntent ids.


async def status_of(session: AsyncSession, deal_id: uuid.UUID) -> str | None:
    result = await session.execute(
        select(col(DealerDeal.status)).where(col(DealerDeal.id) == deal_id)
    )
    return result.scalar_one_or_none()


async def attach_loan(
    session: AsyncSession, deal_id: uuid.UUID, loan_id: uuid.UUID, now: datetime
) -> DealerDeal | None:
    return await update_where(session, deal_id, where=[], values={"loan_id": loan_id}, now=now)


async def store_payment_intent(
    session: AsyncSession, deal_id: uuid.UUID, payment_intent_id: str, now: datetime
) -> DealerDeal | None:
    """Keep the down payment's PaymentIntent on a confirmed (or handed-over) deal that holds no
    other one; None otherwise (cancelled meanwhile, or another intent)."""
    return await update_where(
        session,
        deal_id,
        where=[
            _status_is(DealStatus.confirmed, DealStatus.handed_over),
            _same_intent(payment_intent_id),
        ],
        values={"payment_intent_id": payment_intent_id},
        now=now,
    )


async def mark_handed_over(
    session: AsyncSession, deal_id: uuid.UUID, *, payment_intent_id: str, amount: int, now: datetime
) -> DealerDeal | None:
    """``confirmed → handed_over`` when this intent paid the down payment of a deal on a product
    that auto-funds (no lender decision); else None."""
    return await update_where(
        session,
        deal_id,
        where=[
            _status_is(DealStatus.confirmed),
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
            _status_is(DealStatus.confirmed),
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
        where=[_status_is(DealStatus.cancelled), *_unpaid_by(payment_intent_id, amount)],
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
            _status_is(DealStatus.confirmed),
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
        where=[_status_is(DealStatus.cancelled), col(DealerDeal.refund_id).is_(None)],
        values=values,
        now=now,
    )


def _status_is(*statuses: DealStatus) -> ColumnElement[bool]:
    return col(DealerDeal.status).in_([s.value for s in statuses])


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


async def organization_name(session: AsyncSession, organization_id: uuid.UUID) -> str:
    result = await session.execute(
        select(col(Organization.name)).where(col(Organization.id) == organization_id)
    )
    return result.scalar_one_or_none() or ""


async def approval_and_buyer(session: AsyncSession, code: str) -> tuple[Preapproval, User] | None:
    """The pre-approval with this code and its buyer, in one query (a look-up's one read)."""
    row = (
        await session.execute(
            select(Preapproval, User)
            .join(User, col(User.id) == col(Preapproval.buyer_id))
            .where(col(Preapproval.code) == code)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def buyer_names(
    session: AsyncSession, buyer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(col(User.id), col(User.full_name)).where(col(User.id).in_(buyer_ids))
    )
    return {row[0]: row[1] for row in rows}


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
