"""Loan payments: the lock order a repayment takes, settling a payment once, its
PaymentIntent, and what a repayment reads under the loan's lock."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Executable,
    String,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.servicing.models import (
    Installment,
    Loan,
    LoanPayment,
    PaymentProfile,
    PaymentStatus,
)
from shared.db import utcnow


async def get_payment(
    session: AsyncSession, payment_id: uuid.UUID, *, for_update: bool = False
) -> LoanPayment | None:
    query = (
        select(LoanPayment)
        .where(col(LoanPayment.id) == payment_id)
        .execution_options(populate_existing=True)
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalars().one_or_none()


# Built once, bound per call: building it cost a repayment more CPU than sending it.
_LOCK_LOAN_OF_PAYMENT = (
    select(Loan)
    .join(LoanPayment, col(LoanPayment.loan_id) == col(Loan.id))
    .where(col(LoanPayment.id) == bindparam("payment_id"))
    .with_for_update(of=Loan)
    .execution_options(populate_existing=True)
)


async def lock_loan_of_payment(session: AsyncSession, payment_id: uuid.UUID) -> Loan | None:
    """Lock the loan a payment belongs to (``FOR UPDATE OF loans``), before touching the payment.

    The lock order for repayments is loan → its payments → its instalments, in every
    transaction (a request, a webhook, the reconciliation, the daily job), so two of them on one
    loan queue behind each other instead of deadlocking."""
    result = await session.execute(_LOCK_LOAN_OF_PAYMENT, {"payment_id": payment_id})
    return result.scalars().one_or_none()


def _settle_statement(
    *, without_intent: bool, failure_code: bool, payment_intent_id: bool
) -> Executable:
    conditions = [
        col(LoanPayment.id) == bindparam("b_payment_id"),
        col(LoanPayment.status) == PaymentStatus.processing.value,
    ]
    if without_intent:
        conditions.append(col(LoanPayment.payment_intent_id).is_(None))
    values: dict[str, Any] = {"status": bindparam("b_status"), "settled_at": bindparam("b_now")}
    if failure_code:
        values["failure_code"] = bindparam("b_failure_code")
    if payment_intent_id:
        values["payment_intent_id"] = func.coalesce(
            col(LoanPayment.payment_intent_id),
            bindparam("b_payment_intent_id", type_=String()),
        )
    # No session synchronization: the ORM would evaluate the criteria in Python against the
    # placeholders, not the values; the RETURNING row refreshes the payment if the session
    # holds it.
    return (
        update(LoanPayment)
        .where(*conditions)
        .values(**values)
        .returning(LoanPayment)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


# One statement per shape (whether it requires no intent, records a failure code, records an
# intent), built once and bound per call: building it cost a repayment more CPU than sending it.
_SETTLE = {
    (without_intent, failure_code, payment_intent_id): _settle_statement(
        without_intent=without_intent,
        failure_code=failure_code,
        payment_intent_id=payment_intent_id,
    )
    for without_intent in (False, True)
    for failure_code in (False, True)
    for payment_intent_id in (False, True)
}


async def settle_payment(
    session: AsyncSession,
    payment_id: uuid.UUID,
    *,
    new: PaymentStatus,
    without_intent: bool = False,
    payment_intent_id: str | None = None,
    failure_code: str | None = None,
) -> LoanPayment | None:
    """``processing → new`` once (only while it has no PaymentIntent, with ``without_intent``),
    recording the PaymentIntent that settled it if none was stored; None if the payment was
    already settled. Call it with the loan locked (``lock_loan_of_payment``)."""
    statement = _SETTLE[without_intent, failure_code is not None, payment_intent_id is not None]
    parameters = {
        "b_payment_id": payment_id,
        "b_status": new.value,
        "b_now": utcnow(),
        "b_failure_code": failure_code,
        "b_payment_intent_id": payment_intent_id,
    }
    result = await session.execute(statement, parameters)
    return result.scalars().one_or_none()


# Built once, bound per call (building it cost a repayment more CPU than sending it); its
# parameters are not named after the column it sets, which SQLAlchemy would refuse. No session
# synchronization: the ORM would evaluate the criteria in Python against the placeholders, not
# the values, and no caller keeps a copy of the payment to keep in step.
_STORE_PAYMENT_INTENT = (
    update(LoanPayment)
    .where(
        col(LoanPayment.id) == bindparam("b_payment_id"),
        col(LoanPayment.status) == PaymentStatus.processing.value,
        or_(
            col(LoanPayment.payment_intent_id).is_(None),
            col(LoanPayment.payment_intent_id) == bindparam("b_payment_intent_id"),
        ),
    )
    .values(payment_intent_id=bindparam("b_payment_intent_id"))
    .returning(col(LoanPayment.id))
    .execution_options(synchronize_session=False)
)


async def store_payment_intent(
    session: AsyncSession, payment_id: uuid.UUID, payment_intent_id: str
) -> bool:
    """Remember the PaymentIntent created for a payment still ``processing`` that has none (a
    retry stores the same one again); False if the payment settled or holds another.

    One conditional UPDATE, atomic on the payment's row by itself (a racing settlement waits
    for it, or it for the settlement, and the condition is checked again). It skips the loan's
    lock but keeps the order after it: whatever its caller locks next (the request's
    idempotency key) is locked after the payment by everyone else too."""
    result = await session.execute(
        _STORE_PAYMENT_INTENT,
        {"b_payment_id": payment_id, "b_payment_intent_id": payment_intent_id},
    )
    return result.scalar_one_or_none() is not None


# Built once (a repayment's first phase), not on every request.
_REPAYABLE_LOAN = (
    select(Loan, PaymentProfile)
    .outerjoin(PaymentProfile, col(PaymentProfile.buyer_id) == col(Loan.buyer_id))
    .where(col(Loan.id) == bindparam("loan_id"), col(Loan.buyer_id) == bindparam("buyer_id"))
    .with_for_update(of=Loan)
    .execution_options(populate_existing=True)
)
_INSTALLMENTS_AND_IN_FLIGHT = (
    select(
        Installment,
        select(func.coalesce(func.sum(col(LoanPayment.amount)), 0))
        .where(
            col(LoanPayment.loan_id) == bindparam("loan_id"),
            col(LoanPayment.status) == PaymentStatus.processing.value,
        )
        .scalar_subquery(),
    )
    .where(col(Installment.loan_id) == bindparam("loan_id"))
    .order_by(col(Installment.n))
    .execution_options(populate_existing=True)
)


async def repayable_loan(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID
) -> tuple[Loan, PaymentProfile | None] | None:
    """The buyer's own loan, locked (``FOR UPDATE OF loans``), with the buyer's payment
    profile if any, in one query; None for another buyer's loan."""
    parameters = {"loan_id": loan_id, "buyer_id": buyer_id}
    row = (await session.execute(_REPAYABLE_LOAN, parameters)).one_or_none()
    return None if row is None else (row[0], row[1])


async def installments_and_in_flight(
    session: AsyncSession, loan_id: uuid.UUID
) -> tuple[list[Installment], int]:
    """The loan's instalments by number, and the sum of its payments still ``processing``, in
    one query. Read it with the loan locked (after the lock, so the query's snapshot holds
    every payment committed before it)."""
    rows = (await session.execute(_INSTALLMENTS_AND_IN_FLIGHT, {"loan_id": loan_id})).all()
    return [row[0] for row in rows], int(rows[0][1]) if rows else 0


async def stalled_payments(
    session: AsyncSession, *, older_than: datetime, limit: int
) -> list[LoanPayment]:
    """Payments still ``processing`` that were created before ``older_than``, oldest first."""
    result = await session.execute(
        select(LoanPayment)
        .where(
            col(LoanPayment.status) == PaymentStatus.processing.value,
            col(LoanPayment.created_at) < older_than,
        )
        .order_by(col(LoanPayment.created_at))
        .limit(limit)
    )
    return list(result.scalars().all())
