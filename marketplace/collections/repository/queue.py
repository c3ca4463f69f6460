"""Collections' SQL for the collection queue: loans past due, scoped to the lender's or the
advisor's own (a required argument), with their arrears, contacts, promises and notes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.advisors.models import AdvisorAssignment
from marketplace.collections.models import (
    CollectionNote,
    Mandate,
    MandateStatus,
    NoteKind,
    Notice,
)
from marketplace.servicing.models import (
    Installment,
    InstallmentStatus,
    LedgerEntry,
    Loan,
    LoanStatus,
)
from shared.identity.models import User
from shared.pagination import paginate

# Any select: the scope helpers only add WHERE clauses and joins.
AnySelect = TypeVar("AnySelect", bound="Select[*tuple[Any, ...]]")


def _past_due(query: AnySelect) -> AnySelect:
    return query.where(col(Loan.status) == LoanStatus.active.value, col(Loan.days_past_due) > 0)


@dataclass(frozen=True)
class LenderQueue:
    """A lender's collection queue: the loans on its products."""

    lender_id: uuid.UUID


@dataclass(frozen=True)
class AdvisorQueue:
    """An advisor's collection queue: the platform-guaranteed loans of their own buyers."""

    advisor_id: uuid.UUID


QueueScope = LenderQueue | AdvisorQueue


def _queue_scope(query: AnySelect, scope: QueueScope) -> AnySelect:
    if isinstance(scope, LenderQueue):
        return query.where(col(Loan.lender_id) == scope.lender_id)
    return query.join(
        AdvisorAssignment, col(AdvisorAssignment.buyer_id) == col(Loan.buyer_id)
    ).where(
        col(AdvisorAssignment.advisor_id) == scope.advisor_id,
        col(Loan.platform_guarantee).is_(True),
    )


async def queue_page(
    session: AsyncSession,
    *,
    scope: QueueScope,
    bucket: str | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Loan, str, str | None]], int]:
    """Past-due loans in the scope, longest overdue first, with the buyer's name and encrypted
    phone; and how many there are."""
    query = _queue_scope(
        _past_due(select(Loan, col(User.full_name), col(User.phone_encrypted))).join(
            User, col(User.id) == col(Loan.buyer_id)
        ),
        scope,
    )
    if bucket is not None:
        query = query.where(col(Loan.bucket) == bucket)
    rows, total = await paginate(
        session,
        query.order_by(col(Loan.days_past_due).desc(), col(Loan.id)),
        limit=limit,
        offset=offset,
    )
    return [(loan, str(name), phone) for loan, name, phone in rows], total


async def queue_buckets(session: AsyncSession, *, scope: QueueScope) -> dict[str, tuple[int, int]]:
    """Per bucket: past-due loans and their ledger balance, in the scope."""
    balance = (
        select(func.coalesce(func.sum(col(LedgerEntry.amount)), 0))
        .where(col(LedgerEntry.loan_id) == col(Loan.id))
        .scalar_subquery()
    )
    query = _queue_scope(
        _past_due(select(col(Loan.bucket), func.count(), func.coalesce(func.sum(balance), 0))),
        scope,
    ).group_by(col(Loan.bucket))
    rows = await session.execute(query)
    return {str(bucket): (int(count), int(total)) for bucket, count, total in rows.all()}


@dataclass(frozen=True)
class Arrears:
    overdue_amount: int
    late_fees: int
    overdue_since: date | None


async def arrears_of(session: AsyncSession, loans: Sequence[Loan]) -> dict[uuid.UUID, Arrears]:
    """What each loan has overdue (fees included), of which late fees, and since when, as of
    its last servicing day."""
    if not loans:
        return {}
    as_of = {loan.id: loan.delinquency_as_of or loan.loan_date for loan in loans}
    result = await session.execute(
        select(Installment).where(
            col(Installment.loan_id).in_(list(as_of)),
            col(Installment.status) != InstallmentStatus.paid.value,
        )
    )
    found: dict[uuid.UUID, Arrears] = {}
    for row in result.scalars().all():
        if row.due_date >= as_of[row.loan_id]:
            continue
        interest = row.interest if row.interest_charged is None else row.interest_charged
        owed = row.principal + interest + row.late_fee - row.paid_amount - row.late_fee_paid
        before = found.get(row.loan_id, Arrears(0, 0, None))
        found[row.loan_id] = Arrears(
            before.overdue_amount + owed,
            before.late_fees + row.late_fee - row.late_fee_paid,
            min(filter(None, (before.overdue_since, row.due_date))),
        )
    return found


async def ledger_balances(
    session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not loan_ids:
        return {}
    result = await session.execute(
        select(col(LedgerEntry.loan_id), func.sum(col(LedgerEntry.amount)))
        .where(col(LedgerEntry.loan_id).in_(list(loan_ids)))
        .group_by(col(LedgerEntry.loan_id))
    )
    return {loan_id: int(total) for loan_id, total in result.all()}


async def last_contacts(
    session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    """When each loan's buyer was last reminded or a note recorded."""
    if not loan_ids:
        return {}
    notices = select(col(Notice.loan_id), func.max(col(Notice.created_at))).where(
        col(Notice.loan_id).in_(list(loan_ids))
    )
    notes = select(col(CollectionNote.loan_id), func.max(col(CollectionNote.created_at))).where(
        col(CollectionNote.loan_id).in_(list(loan_ids))
    )
    last: dict[uuid.UUID, datetime] = {}
    for query, key in ((notices, col(Notice.loan_id)), (notes, col(CollectionNote.loan_id))):
        for loan_id, at in (await session.execute(query.group_by(key))).all():
            if at is not None and (loan_id not in last or at > last[loan_id]):
                last[loan_id] = at
    return last


async def latest_promises(
    session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CollectionNote]:
    if not loan_ids:
        return {}
    result = await session.execute(
        select(CollectionNote)
        .where(
            col(CollectionNote.loan_id).in_(list(loan_ids)),
            col(CollectionNote.kind) == NoteKind.promise.value,
        )
        .order_by(col(CollectionNote.loan_id), col(CollectionNote.created_at))
    )
    return {note.loan_id: note for note in result.scalars().all()}


async def active_mandate_loans(
    session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    if not loan_ids:
        return set()
    result = await session.execute(
        select(col(Mandate.loan_id)).where(
            col(Mandate.loan_id).in_(list(loan_ids)),
            col(Mandate.status) == MandateStatus.active.value,
        )
    )
    return set(result.scalars().all())


async def queue_loan(
    session: AsyncSession,
    loan_id: uuid.UUID,
    *,
    scope: QueueScope,
) -> Loan | None:
    """One loan in the scope (past due or not: its history stays readable)."""
    query = _queue_scope(select(Loan).where(col(Loan.id) == loan_id), scope)
    found: Loan | None = (await session.execute(query)).scalars().one_or_none()
    return found


async def notes_of(session: AsyncSession, loan_id: uuid.UUID) -> list[CollectionNote]:
    result = await session.execute(
        select(CollectionNote)
        .where(col(CollectionNote.loan_id) == loan_id)
        .order_by(col(CollectionNote.created_at).desc())
    )
    return list(result.scalars().all())
