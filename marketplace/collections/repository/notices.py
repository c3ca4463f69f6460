"""Collections' SQL for notices: recording them once per key, claiming the pending ones for
sending, and the reminder and failure candidates they are made from."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    cast,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.collections.models import (
    DebitAttempt,
    Mandate,
    Notice,
    NoticeKind,
    NoticeStatus,
)
from marketplace.products.models import ProductVersion
from marketplace.servicing.models import (
    Installment,
    InstallmentStatus,
    Loan,
    LoanPayment,
    LoanStatus,
    PaymentStatus,
)
from pricing.collections import MAX_REMINDER_DAYS_BEFORE, CollectionTerms
from shared.db import table_of, utcnow
from shared.identity.models import User
from shared.writes import batches


@dataclass(frozen=True, slots=True)
class NewNotice:
    """A notice to record (``record_notices``); its text is rendered already."""

    notice_key: str
    loan_id: uuid.UUID
    buyer_id: uuid.UUID
    kind: NoticeKind
    locale: str
    body: str
    channel: str = "sms"


# Built once; each notice's row is its parameters. A book's reminders are tens of thousands of
# rows: an ORM entity per notice, and an ORM INSERT built from their values, were two thirds of
# a jobs run's time recording them (bench/scale.py, 200,000 loans).
_NOTICES = table_of(Notice)
_INSERT_NOTICES = (
    insert(_NOTICES).on_conflict_do_nothing(index_elements=["notice_key"]).returning(_NOTICES.c.id)
)


async def record_notices(session: AsyncSession, notices: Sequence[NewNotice]) -> int:
    """Record each notice unless its key is already recorded; how many were new. In key
    order, so that two runs recording the same notices wait on each other, never deadlock;
    in batches, as a whole book's reminders bind more parameters than one statement takes."""
    if not notices:
        return 0
    recorded = 0
    now = utcnow()
    for batch in batches(sorted(notices, key=lambda n: n.notice_key), parameters_per_row=10):
        rows = [
            {
                "id": uuid.uuid4(),
                "notice_key": n.notice_key,
                "loan_id": n.loan_id,
                "buyer_id": n.buyer_id,
                "kind": n.kind.value,
                "channel": n.channel,
                "locale": n.locale,
                "body": n.body,
                "status": NoticeStatus.pending.value,
                "created_at": now,
            }
            for n in batch
        ]
        result = await session.execute(_INSERT_NOTICES, rows)
        recorded += len(result.all())
    return recorded


async def recorded_notice_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are recorded already (one array parameter, however many)."""
    if not keys:
        return set()
    result = await session.execute(
        select(col(Notice.notice_key)).where(
            col(Notice.notice_key) == any_(bindparam("keys", list(keys), ARRAY(String())))
        )
    )
    return set(result.scalars().all())


async def claim_pending_notices(session: AsyncSession, *, limit: int) -> list[Notice]:
    """``pending → sending`` for up to ``limit`` notices, oldest first, skipping those another
    run holds: each is then sent by exactly one run."""
    pending = (
        select(col(Notice.id))
        .where(col(Notice.status) == NoticeStatus.pending.value)
        .order_by(col(Notice.created_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    result = await session.execute(
        update(Notice)
        .where(col(Notice.id).in_(pending), col(Notice.status) == NoticeStatus.pending.value)
        .values(status=NoticeStatus.sending.value)
        .returning(Notice)
        .execution_options(populate_existing=True)
    )
    return list(result.scalars().all())


async def finish_notice(session: AsyncSession, notice_id: uuid.UUID, *, sent: bool) -> None:
    await session.execute(
        update(Notice)
        .where(col(Notice.id) == notice_id, col(Notice.status) == NoticeStatus.sending.value)
        .values(
            status=(NoticeStatus.sent if sent else NoticeStatus.failed).value,
            sent_at=utcnow() if sent else None,
        )
    )


def _any_of(name: str, ids: Sequence[uuid.UUID]) -> object:
    """``= ANY(:name)`` with one array parameter: a reminder run over a whole book names more
    loans than a statement may have parameters (asyncpg stops at 32,767)."""
    return any_(bindparam(name, list(set(ids)), ARRAY(Uuid())))


async def phones_of(session: AsyncSession, buyer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The buyers' encrypted phones (``shared.pii``), by buyer."""
    if not buyer_ids:
        return {}
    result = await session.execute(
        select(col(User.id), col(User.phone_encrypted)).where(
            col(User.id) == _any_of("buyer_ids", buyer_ids), col(User.phone_encrypted).is_not(None)
        )
    )
    return {user_id: str(phone) for user_id, phone in result.all()}


async def loan_notices(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID
) -> list[Notice]:
    """The reminders the buyer was sent about their own loan, newest first."""
    return await _notices(session, col(Notice.loan_id) == loan_id, col(Notice.buyer_id) == buyer_id)


async def notices_of(session: AsyncSession, loan_id: uuid.UUID) -> list[Notice]:
    """Every reminder about a loan the caller has already read in its own scope (the
    collection queue's history), newest first."""
    return await _notices(session, col(Notice.loan_id) == loan_id)


async def _notices(session: AsyncSession, *where: ColumnElement[bool]) -> list[Notice]:
    query = select(Notice).where(*where).order_by(col(Notice.created_at).desc())
    return list((await session.execute(query)).scalars().all())


@dataclass(frozen=True)
class DueRow:
    loan_id: uuid.UUID
    buyer_id: uuid.UUID
    product_version_id: uuid.UUID
    n: int
    due_date: date
    owed: int
    status: str
    days_past_due: int


async def reminder_candidates(session: AsyncSession, as_of: date) -> list[DueRow]:
    """Unpaid instalments of active loans that a reminder may be due for, with what settles
    each now: those overdue (a few percent of the book), and those falling due within their
    product's ``reminder_days_before`` whose reminder is not recorded yet — so a run reads the
    day's new rows, not the whole month's."""
    days_before = func.coalesce(
        cast(col(ProductVersion.collections)["reminder_days_before"].astext, Integer),
        CollectionTerms().reminder_days_before,
    )
    upcoming_key = func.concat("upcoming:", col(Installment.loan_id), ":", col(Installment.n))
    result = await session.execute(
        select(
            col(Installment.loan_id),
            col(Loan.buyer_id),
            col(Loan.product_version_id),
            col(Installment.n),
            col(Installment.due_date),
            (
                col(Installment.principal)
                + func.coalesce(col(Installment.interest_charged), col(Installment.interest))
                + col(Installment.late_fee)
                - col(Installment.paid_amount)
                - col(Installment.late_fee_paid)
            ),
            col(Installment.status),
            col(Loan.days_past_due),
        )
        .join(Loan, col(Loan.id) == col(Installment.loan_id))
        .join(ProductVersion, col(ProductVersion.id) == col(Loan.product_version_id))
        .where(
            col(Installment.status) != InstallmentStatus.paid.value,
            col(Installment.due_date) <= as_of + timedelta(days=MAX_REMINDER_DAYS_BEFORE),
            col(Loan.status) == LoanStatus.active.value,
            or_(
                col(Installment.due_date) <= as_of,
                and_(
                    col(Installment.due_date) - days_before <= as_of,  # date − days: a date
                    ~select(col(Notice.id)).where(col(Notice.notice_key) == upcoming_key).exists(),
                ),
            ),
        )
        .order_by(col(Installment.loan_id), col(Installment.n))
    )
    return [DueRow(*row) for row in result.all()]


async def failed_attempts_without_notice(session: AsyncSession) -> list[tuple[DebitAttempt, Loan]]:
    """Debit attempts whose payment failed and that no ``debit_failed`` notice names yet."""
    notice_key = func.concat("debit_failed:", col(DebitAttempt.id))
    result = await session.execute(
        select(DebitAttempt, Loan)
        .join(LoanPayment, col(LoanPayment.id) == col(DebitAttempt.payment_id))
        .join(Loan, col(Loan.id) == col(DebitAttempt.loan_id))
        .where(
            col(LoanPayment.status) == PaymentStatus.failed.value,
            ~select(col(Notice.id)).where(col(Notice.notice_key) == notice_key).exists(),
        )
    )
    return [(attempt, loan) for attempt, loan in result.all()]


async def mandate_locales(
    session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The language each loan's latest mandate was agreed in (reminders use it)."""
    if not loan_ids:
        return {}
    result = await session.execute(
        select(col(Mandate.loan_id), col(Mandate.locale))
        .where(col(Mandate.loan_id) == _any_of("loan_ids", loan_ids))
        .order_by(col(Mandate.loan_id), col(Mandate.agreed_at))
    )
    return dict(result.all())
