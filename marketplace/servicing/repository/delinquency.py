"""What the delinquency pass reads and writes: the loans it may change, held for the pass,
their unpaid instalments due, how each product collects, and each loan's days past due."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Uuid,
    any_,
    bindparam,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import col

from marketplace.products.models import ProductVersion
from marketplace.servicing.models import (
    Installment,
    InstallmentStatus,
    Loan,
    LoanStatus,
)
from pricing.collections import CollectionTerms

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
