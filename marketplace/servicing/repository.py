"""Servicing's SQL: loans, instalments, payments and payment profiles."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Uuid,
    any_,
    bindparam,
    func,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlmodel import col

from marketplace.products.models import ProductVersion
from marketplace.servicing.models import (
    Installment,
    InstallmentStatus,
    LedgerEntry,
    Loan,
    LoanPayment,
    LoanStatus,
    PaymentProfile,
    PaymentStatus,
)
from pricing.collections import CollectionTerms
from shared.db import utcnow
from shared.identity.models import Organization
from shared.pagination import paginate


async def transition(
    session: AsyncSession,
    loan_id: uuid.UUID,
    *,
    expected: LoanStatus,
    new: LoanStatus,
    where: Sequence[Any] = (),
    **values: Any,
) -> Loan | None:
    """``UPDATE loans SET status = new … WHERE id = … AND status = expected``; the loan, or
    None if it was not in ``expected`` (someone else moved it first)."""
    result = await session.execute(
        update(Loan)
        .where(col(Loan.id) == loan_id, col(Loan.status) == expected.value, *where)
        .values(status=new.value, status_changed_at=utcnow(), **values)
        .returning(Loan)
        .execution_options(populate_existing=True)
    )
    return result.scalars().one_or_none()


async def buyer_loan(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID, for_update: bool = False
) -> Loan | None:
    """The buyer's own loan (another buyer's is None), locked with ``for_update``."""
    return await _loan(session, loan_id, col(Loan.buyer_id) == buyer_id, for_update=for_update)


async def lender_loan(
    session: AsyncSession, loan_id: uuid.UUID, *, lender_id: uuid.UUID
) -> Loan | None:
    """A loan booked on the lender's products (another lender's is None)."""
    return await _loan(session, loan_id, col(Loan.lender_id) == lender_id)


async def loan_for_platform(session: AsyncSession, loan_id: uuid.UUID) -> Loan | None:
    """Any loan: for the platform's own checks (the ledger reconciliation), never a caller's."""
    return await _loan(session, loan_id)


async def _loan(
    session: AsyncSession, loan_id: uuid.UUID, *tenant: Any, for_update: bool = False
) -> Loan | None:
    query = select(Loan).where(col(Loan.id) == loan_id, *tenant)
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query.execution_options(populate_existing=True))
    return result.scalars().one_or_none()


async def buyer_loans(
    session: AsyncSession, *, buyer_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Loan], int]:
    """A page of the buyer's own loans, newest first, and their number."""
    return await _loans(session, col(Loan.buyer_id) == buyer_id, limit=limit, offset=offset)


async def lender_loans(
    session: AsyncSession, *, lender_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Loan], int]:
    """A page of the loans on the lender's products, newest first, and their number."""
    return await _loans(session, col(Loan.lender_id) == lender_id, limit=limit, offset=offset)


async def _loans(
    session: AsyncSession, tenant: ColumnElement[bool], *, limit: int, offset: int
) -> tuple[list[Loan], int]:
    statement = select(Loan).where(tenant).order_by(col(Loan.created_at).desc(), col(Loan.id))
    return await paginate(session, statement, limit=limit, offset=offset)


async def installments(
    session: AsyncSession, loan_id: uuid.UUID, *, for_update: bool = False
) -> list[Installment]:
    query = (
        select(Installment)
        .where(col(Installment.loan_id) == loan_id)
        .order_by(col(Installment.n))
        .execution_options(populate_existing=True)
    )
    if for_update:
        query = query.with_for_update()
    return list((await session.execute(query)).scalars().all())


async def installments_of(
    session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Installment]]:
    by_loan: dict[uuid.UUID, list[Installment]] = {loan_id: [] for loan_id in loan_ids}
    if not loan_ids:
        return by_loan
    rows = await session.execute(
        select(Installment)
        .where(col(Installment.loan_id).in_(loan_ids))
        .order_by(col(Installment.loan_id), col(Installment.n))
    )
    for row in rows.scalars().all():
        by_loan[row.loan_id].append(row)
    return by_loan


_UUIDS = ARRAY(Uuid())


def _inline(value: str | int) -> BindParameter[Any]:
    """A constant rendered into the SQL, so that a partial index on it is usable by any plan
    (a bound parameter only lets a plan made for its value use one)."""
    return literal(value, literal_execute=True)


async def loans_to_service(session: AsyncSession, as_of: date) -> list[uuid.UUID]:
    """The ids (in order) of the active loans the delinquency pass can change as of ``as_of``:
    with an unpaid instalment due by then, still showing days past due, or never serviced —
    unless already serviced as of that day (the jobs run every few minutes)."""
    due = (
        select(col(Installment.loan_id))
        .where(
            col(Installment.status) != _inline(InstallmentStatus.paid.value),
            col(Installment.due_date) <= as_of,
        )
        .distinct()
    )
    standing = select(col(Loan.id)).where(  # ix_loans_to_service's predicate, to the letter
        col(Loan.status) == _inline(LoanStatus.active.value),
        or_(col(Loan.delinquency_as_of).is_(None), col(Loan.days_past_due) != _inline(0)),
    )
    candidates = due.union(standing).subquery()
    result = await session.execute(
        select(col(Loan.id))
        .join(candidates, candidates.c[0] == col(Loan.id))
        .where(or_(col(Loan.delinquency_as_of).is_(None), col(Loan.delinquency_as_of) < as_of))
        .order_by(col(Loan.id))
    )
    return list(result.scalars().all())


@dataclass(frozen=True)
class LoanStanding:
    """What the delinquency pass needs of a loan it holds."""

    id: uuid.UUID
    days_past_due: int
    delinquency_as_of: date | None
    product_version_id: uuid.UUID
    principal: int
    upfront_fee: int


async def lock_active_loans(
    session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> list[LoanStanding]:
    """Lock those of these loans that are active, in id order, for a job's pass, skipping
    those another worker holds (a concurrent run, a payment being credited)."""
    result = await session.execute(
        select(
            col(Loan.id),
            col(Loan.days_past_due),
            col(Loan.delinquency_as_of),
            col(Loan.product_version_id),
            col(Loan.principal),
            col(Loan.upfront_fee),
        )
        .where(
            col(Loan.id) == any_(bindparam("loan_ids", list(loan_ids), _UUIDS)),
            col(Loan.status) == LoanStatus.active.value,
        )
        .order_by(col(Loan.id))
        # FOR NO KEY UPDATE: as exclusive as FOR UPDATE against every other writer of a loan,
        # but rows that merely refer to it (ledgers, notices) can still be inserted by another
        # run meanwhile; with FOR UPDATE such inserts would wait on this run, and deadlock it.
        .with_for_update(skip_locked=True, key_share=True)
    )
    return [LoanStanding(*row) for row in result.all()]


async def due_unpaid_installments(
    session: AsyncSession, loan_ids: Sequence[uuid.UUID], as_of: date
) -> list[Installment]:
    """The instalments of these (locked) loans that are unpaid and due by ``as_of``, locked,
    in (loan, n) order. Paid and future rows are most of the table and need nothing."""
    if not loan_ids:
        return []
    result = await session.execute(
        select(Installment)
        .where(
            col(Installment.loan_id) == any_(bindparam("loan_ids", list(loan_ids), _UUIDS)),
            # Inline, so the partial index's predicate is provable in any plan.
            col(Installment.status) != _inline(InstallmentStatus.paid.value),
            col(Installment.due_date) <= as_of,
        )
        .order_by(col(Installment.loan_id), col(Installment.n))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(result.scalars().all())


async def set_delinquency(
    session: AsyncSession, standings: Sequence[tuple[uuid.UUID, int, str]], as_of: date
) -> None:
    """Record each loan's ``(id, days_past_due, bucket)`` as of ``as_of``, in one statement,
    unless a later run already recorded a later date; rows that would not change are left."""
    if not standings:
        return
    ids, days, buckets = zip(*standings, strict=True)
    await session.execute(
        text(
            "UPDATE loans AS l SET days_past_due = v.days, bucket = v.bucket,"
            " delinquency_as_of = :as_of"
            " FROM unnest(CAST(:ids AS uuid[]), CAST(:days AS integer[]),"
            " CAST(:buckets AS varchar[])) AS v(id, days, bucket)"
            " WHERE l.id = v.id AND l.id = ANY(CAST(:ids AS uuid[]))"
            " AND (l.delinquency_as_of IS NULL OR l.delinquency_as_of <= :as_of)"
            " AND (l.delinquency_as_of IS DISTINCT FROM :as_of"
            " OR l.days_past_due <> v.days OR l.bucket <> v.bucket)"
        ),
        {"ids": list(ids), "days": list(days), "buckets": list(buckets), "as_of": as_of},
    )


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


async def lock_loan_of_payment(session: AsyncSession, payment_id: uuid.UUID) -> Loan | None:
    """Lock the loan a payment belongs to (``FOR UPDATE OF loans``), before touching the payment.

    The lock order for repayments is loan → its payments → its instalments, in every
    transaction (a request, a webhook, the reconciliation, the daily job), so two of them on one
    loan queue behind each other instead of deadlocking."""
    result = await session.execute(
        select(Loan)
        .join(LoanPayment, col(LoanPayment.loan_id) == col(Loan.id))
        .where(col(LoanPayment.id) == payment_id)
        .with_for_update(of=Loan)
        .execution_options(populate_existing=True)
    )
    return result.scalars().one_or_none()


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
    conditions = [
        col(LoanPayment.id) == payment_id,
        col(LoanPayment.status) == PaymentStatus.processing.value,
    ]
    if without_intent:
        conditions.append(col(LoanPayment.payment_intent_id).is_(None))
    values: dict[str, Any] = {"status": new.value, "settled_at": utcnow()}
    if failure_code is not None:
        values["failure_code"] = failure_code
    if payment_intent_id is not None:
        values["payment_intent_id"] = func.coalesce(
            col(LoanPayment.payment_intent_id), payment_intent_id
        )
    result = await session.execute(
        update(LoanPayment)
        .where(*conditions)
        .values(**values)
        .returning(LoanPayment)
        .execution_options(populate_existing=True)
    )
    return result.scalars().one_or_none()


async def store_payment_intent(
    session: AsyncSession, payment_id: uuid.UUID, payment_intent_id: str
) -> bool:
    """Remember the PaymentIntent created for a payment still ``processing`` that has none (a
    retry stores the same one again); False if the payment settled or holds another."""
    await lock_loan_of_payment(session, payment_id)
    result = await session.execute(
        update(LoanPayment)
        .where(
            col(LoanPayment.id) == payment_id,
            col(LoanPayment.status) == PaymentStatus.processing.value,
            or_(
                col(LoanPayment.payment_intent_id).is_(None),
                col(LoanPayment.payment_intent_id) == payment_intent_id,
            ),
        )
        .values(payment_intent_id=payment_intent_id)
        .returning(col(LoanPayment.id))
    )
    return result.scalar_one_or_none() is not None


async def processing_payments(session: AsyncSession, loan_id: uuid.UUID) -> list[LoanPayment]:
    result = await session.execute(
        select(LoanPayment).where(
            col(LoanPayment.loan_id) == loan_id,
            col(LoanPayment.status) == PaymentStatus.processing.value,
        )
    )
    return list(result.scalars().all())


async def get_profile(session: AsyncSession, buyer_id: uuid.UUID) -> PaymentProfile | None:
    result = await session.execute(
        select(PaymentProfile)
        .where(col(PaymentProfile.buyer_id) == buyer_id)
        .execution_options(populate_existing=True)
    )
    return result.scalars().one_or_none()


async def organization_names(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(col(Organization.id), col(Organization.name)).where(
            col(Organization.id).in_(set(ids))
        )
    )
    return {org_id: name for org_id, name in rows.all()}


async def ledger_balances(
    session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not loan_ids:
        return {}
    rows = await session.execute(
        select(col(LedgerEntry.loan_id), func.sum(col(LedgerEntry.amount)))
        .where(col(LedgerEntry.loan_id).in_(loan_ids))
        .group_by(col(LedgerEntry.loan_id))
    )
    return {loan_id: int(total) for loan_id, total in rows.all()}


async def portfolio_groups(
    session: AsyncSession, lender_id: uuid.UUID
) -> list[tuple[str, str, str, bool, int, int]]:
    """Per (grade, status, bucket, platform guarantee): how many loans and their ledger
    balance, for one lender's loans (cancelled ones excluded)."""
    # Each loan's balance from its own ledger lines (an index range per loan): grouping the
    # whole ledger first would read every lender's history.
    balances = (
        select(func.sum(col(LedgerEntry.amount)).label("balance"))
        .where(col(LedgerEntry.loan_id) == col(Loan.id))
        .lateral()
    )
    rows = await session.execute(
        select(
            col(Loan.grade),
            col(Loan.status),
            col(Loan.bucket),
            col(Loan.platform_guarantee),
            func.count(),
            func.coalesce(func.sum(balances.c.balance), 0),
        )
        .outerjoin(balances, true())
        .where(col(Loan.lender_id) == lender_id, col(Loan.status) != LoanStatus.cancelled.value)
        .group_by(col(Loan.grade), col(Loan.status), col(Loan.bucket), col(Loan.platform_guarantee))
    )
    return [
        (str(grade), str(status), str(bucket), bool(guaranteed), int(count), int(balance))
        for grade, status, bucket, guaranteed, count, balance in rows.all()
    ]


async def add_profile(
    session: AsyncSession, buyer_id: uuid.UUID, stripe_customer_id: str
) -> PaymentProfile:
    """The buyer's payment profile, created with this Stripe customer unless one exists."""
    await session.execute(
        insert(PaymentProfile)
        .values(buyer_id=buyer_id, stripe_customer_id=stripe_customer_id)
        .on_conflict_do_nothing(index_elements=["buyer_id"])
    )
    profile = await get_profile(session, buyer_id)
    assert profile is not None
    return profile


async def set_default_card(
    session: AsyncSession,
    buyer_id: uuid.UUID,
    *,
    payment_method_id: str,
    card_brand: str | None,
    card_last4: str | None,
) -> None:
    """Make this card the buyer's default for repayments (only brand and last 4 are kept)."""
    await session.execute(
        update(PaymentProfile)
        .where(col(PaymentProfile.buyer_id) == buyer_id)
        .values(
            payment_method_id=payment_method_id,
            card_brand=card_brand,
            card_last4=card_last4,
            updated_at=utcnow(),
        )
    )


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


async def collection_terms(
    session: AsyncSession, product_version_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CollectionTerms]:
    """How each of these product versions collects (the platform's defaults where unset)."""
    if not product_version_ids:
        return {}
    result = await session.execute(
        select(col(ProductVersion.id), col(ProductVersion.collections)).where(
            col(ProductVersion.id).in_(set(product_version_ids))
        )
    )
    return {version_id: CollectionTerms.from_json(stored) for version_id, stored in result.all()}


async def loan_owners(
    session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID | None]]:
    """Each loan's lender and dealer (whom its webhook events go to)."""
    rows = await session.execute(
        select(col(Loan.id), col(Loan.lender_id), col(Loan.dealer_id)).where(
            col(Loan.id).in_(loan_ids)
        )
    )
    return {loan_id: (lender_id, dealer_id) for loan_id, lender_id, dealer_id in rows}


# -- funding ---------------------------------------------------------------------------------


async def set_due_dates(session: AsyncSession, loan_id: uuid.UUID, dues: Sequence[date]) -> None:
    """Instalment n of the loan falls due on ``dues[n - 1]``."""
    await session.execute(
        text(
            "UPDATE loan_installments AS i SET due_date = d.due"
            " FROM unnest(CAST(:ns AS integer[]), CAST(:dues AS date[])) AS d(n, due)"
            " WHERE i.loan_id = :loan_id AND i.n = d.n"
        ),
        {"loan_id": loan_id, "ns": list(range(1, len(dues) + 1)), "dues": list(dues)},
    )


async def live_loan_on_vin(
    session: AsyncSession, vin: str, *, other_than: uuid.UUID | None = None
) -> uuid.UUID | None:
    """A loan waiting for funding or active on the car ``vin`` (other than ``other_than``).
    Not a tenant read: it answers only whether the car is already financed, never whose."""
    query = select(col(Loan.id)).where(
        # Spelled as the unique index spells it, so the planner uses it.
        text("loans.vehicle ->> 'vin' = :vin").bindparams(vin=vin),
        col(Loan.status).in_([LoanStatus.pending_funding.value, LoanStatus.active.value]),
    )
    if other_than is not None:
        query = query.where(col(Loan.id) != other_than)
    return (await session.execute(query.limit(1))).scalar_one_or_none()
