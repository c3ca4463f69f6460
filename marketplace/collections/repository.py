"""Collections' SQL: mandates, debit attempts, notices, notes, the collection queue and the
guarantee's claims and reserve. Every read a tenant makes is scoped by a required argument
(the buyer's, the lender's or the advisor's id)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Integer, Select, and_, cast, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.advisors.models import AdvisorAssignment
from marketplace.collections.models import (
    CollectionNote,
    DebitAttempt,
    GuaranteeClaim,
    GuaranteeEntry,
    GuaranteeEntryType,
    Mandate,
    MandateStatus,
    NoteKind,
    Notice,
    NoticeStatus,
)
from marketplace.products.models import ProductVersion
from marketplace.servicing.models import (
    Installment,
    InstallmentStatus,
    LedgerEntry,
    LedgerEntryType,
    Loan,
    LoanPayment,
    LoanStatus,
    PaymentStatus,
)
from pricing.collections import MAX_REMINDER_DAYS_BEFORE, CollectionTerms
from shared.db import utcnow
from shared.identity.models import User

# -- mandates --------------------------------------------------------------------------------


async def active_mandate(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID | None
) -> Mandate | None:
    """The loan's live mandate; scoped to the buyer unless a job asks (``buyer_id=None``)."""
    query = select(Mandate).where(
        col(Mandate.loan_id) == loan_id, col(Mandate.status) == MandateStatus.active.value
    )
    if buyer_id is not None:
        query = query.where(col(Mandate.buyer_id) == buyer_id)
    return (await session.execute(query)).scalars().one_or_none()


async def revoke_mandate(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID
) -> Mandate | None:
    """``active → revoked`` for the buyer's live mandate on the loan; None if there is none."""
    result = await session.execute(
        update(Mandate)
        .where(
            col(Mandate.loan_id) == loan_id,
            col(Mandate.buyer_id) == buyer_id,
            col(Mandate.status) == MandateStatus.active.value,
        )
        .values(status=MandateStatus.revoked.value, revoked_at=utcnow())
        .returning(Mandate)
        .execution_options(populate_existing=True)
    )
    return result.scalars().one_or_none()


# -- debits ----------------------------------------------------------------------------------


async def loans_to_debit(
    session: AsyncSession, as_of: date, *, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    """Active loans with a live mandate and an unpaid instalment due by ``as_of``, in id order
    after ``after`` (keyset pages)."""
    query = (
        select(col(Loan.id))
        .join(Mandate, col(Mandate.loan_id) == col(Loan.id))
        .where(
            col(Mandate.status) == MandateStatus.active.value,
            col(Loan.status) == LoanStatus.active.value,
            select(col(Installment.id))
            .where(
                col(Installment.loan_id) == col(Loan.id),
                col(Installment.status) != InstallmentStatus.paid.value,
                col(Installment.due_date) <= as_of,
            )
            .exists(),
        )
        .order_by(col(Loan.id))
        .limit(limit)
    )
    if after is not None:
        query = query.where(col(Loan.id) > after)
    return list((await session.execute(query)).scalars().all())


async def attempts(session: AsyncSession, loan_id: uuid.UUID) -> list[DebitAttempt]:
    result = await session.execute(
        select(DebitAttempt)
        .where(col(DebitAttempt.loan_id) == loan_id)
        .order_by(col(DebitAttempt.installment_n), col(DebitAttempt.attempt))
    )
    return list(result.scalars().all())


async def has_processing_payment(session: AsyncSession, loan_id: uuid.UUID) -> bool:
    result = await session.execute(
        select(col(LoanPayment.id))
        .where(
            col(LoanPayment.loan_id) == loan_id,
            col(LoanPayment.status) == PaymentStatus.processing.value,
        )
        .limit(1)
    )
    return result.first() is not None


@dataclass(frozen=True)
class AttemptView:
    attempt: DebitAttempt
    status: str
    failure_code: str | None


async def attempts_with_outcome(session: AsyncSession, loan_id: uuid.UUID) -> list[AttemptView]:
    """A loan's debit attempts with their payment's outcome, newest first."""
    result = await session.execute(
        select(DebitAttempt, col(LoanPayment.status), col(LoanPayment.failure_code))
        .join(LoanPayment, col(LoanPayment.id) == col(DebitAttempt.payment_id))
        .where(col(DebitAttempt.loan_id) == loan_id)
        .order_by(col(DebitAttempt.attempted_on).desc())
    )
    return [AttemptView(a, str(status), code) for a, status, code in result.all()]


# -- notices ---------------------------------------------------------------------------------


async def record_notices(session: AsyncSession, notices: Sequence[Notice]) -> int:
    """Record each notice unless its key is already recorded; how many were new. In key
    order, so that two runs recording the same notices wait on each other, never deadlock."""
    if not notices:
        return 0
    notices = sorted(notices, key=lambda n: n.notice_key)
    result = await session.execute(
        insert(Notice)
        .values(
            [
                {
                    "id": n.id,
                    "notice_key": n.notice_key,
                    "loan_id": n.loan_id,
                    "buyer_id": n.buyer_id,
                    "kind": n.kind.value,
                    "channel": n.channel,
                    "locale": n.locale,
                    "body": n.body,
                    "status": NoticeStatus.pending.value,
                    "created_at": utcnow(),
                }
                for n in notices
            ]
        )
        .on_conflict_do_nothing(index_elements=["notice_key"])
        .returning(col(Notice.id))
    )
    return len(result.all())


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


async def phones_of(session: AsyncSession, buyer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The buyers' encrypted phones (``shared.pii``), by buyer."""
    if not buyer_ids:
        return {}
    result = await session.execute(
        select(col(User.id), col(User.phone_encrypted)).where(
            col(User.id).in_(set(buyer_ids)), col(User.phone_encrypted).is_not(None)
        )
    )
    return {user_id: str(phone) for user_id, phone in result.all()}


async def loan_notices(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID | None = None
) -> list[Notice]:
    query = select(Notice).where(col(Notice.loan_id) == loan_id)
    if buyer_id is not None:
        query = query.where(col(Notice.buyer_id) == buyer_id)
    result = await session.execute(query.order_by(col(Notice.created_at).desc()))
    return list(result.scalars().all())


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
        .where(col(Mandate.loan_id).in_(set(loan_ids)))
        .order_by(col(Mandate.loan_id), col(Mandate.agreed_at))
    )
    return dict(result.all())


# -- the collection queue --------------------------------------------------------------------


# Any select: the scope helpers only add WHERE clauses and joins.
AnySelect = TypeVar("AnySelect", bound="Select[*tuple[Any, ...]]")


def _past_due(query: AnySelect) -> AnySelect:
    return query.where(col(Loan.status) == LoanStatus.active.value, col(Loan.days_past_due) > 0)


def _queue_scope(
    query: AnySelect, *, lender_id: uuid.UUID | None, advisor_id: uuid.UUID | None
) -> AnySelect:
    if lender_id is not None:
        return query.where(col(Loan.lender_id) == lender_id)
    if advisor_id is not None:
        # The advisor follows up the guaranteed loans of their own buyers.
        return query.join(
            AdvisorAssignment, col(AdvisorAssignment.buyer_id) == col(Loan.buyer_id)
        ).where(
            col(AdvisorAssignment.advisor_id) == advisor_id,
            col(Loan.platform_guarantee).is_(True),
        )
    raise ValueError("a collection queue is scoped to a lender or an advisor")


async def queue_page(
    session: AsyncSession,
    *,
    lender_id: uuid.UUID | None = None,
    advisor_id: uuid.UUID | None = None,
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
        lender_id=lender_id,
        advisor_id=advisor_id,
    )
    counted = _queue_scope(
        _past_due(select(func.count()).select_from(Loan)),
        lender_id=lender_id,
        advisor_id=advisor_id,
    )
    if bucket is not None:
        query = query.where(col(Loan.bucket) == bucket)
        counted = counted.where(col(Loan.bucket) == bucket)
    rows = await session.execute(
        query.order_by(col(Loan.days_past_due).desc(), col(Loan.id)).limit(limit).offset(offset)
    )
    total = (await session.execute(counted)).scalar_one()
    return [(loan, str(name), phone) for loan, name, phone in rows.all()], int(total)


async def queue_buckets(
    session: AsyncSession,
    *,
    lender_id: uuid.UUID | None = None,
    advisor_id: uuid.UUID | None = None,
) -> dict[str, tuple[int, int]]:
    """Per bucket: past-due loans and their ledger balance, in the scope."""
    balance = (
        select(func.coalesce(func.sum(col(LedgerEntry.amount)), 0))
        .where(col(LedgerEntry.loan_id) == col(Loan.id))
        .scalar_subquery()
    )
    query = _queue_scope(
        _past_due(select(col(Loan.bucket), func.count(), func.coalesce(func.sum(balance), 0))),
        lender_id=lender_id,
        advisor_id=advisor_id,
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
    lender_id: uuid.UUID | None = None,
    advisor_id: uuid.UUID | None = None,
) -> Loan | None:
    """One loan in the scope (past due or not: its history stays readable)."""
    query = _queue_scope(
        select(Loan).where(col(Loan.id) == loan_id), lender_id=lender_id, advisor_id=advisor_id
    )
    found: Loan | None = (await session.execute(query)).scalars().one_or_none()
    return found


async def notes_of(session: AsyncSession, loan_id: uuid.UUID) -> list[CollectionNote]:
    result = await session.execute(
        select(CollectionNote)
        .where(col(CollectionNote.loan_id) == loan_id)
        .order_by(col(CollectionNote.created_at).desc())
    )
    return list(result.scalars().all())


# -- the guarantee ---------------------------------------------------------------------------


async def provision_reserve(session: AsyncSession, *, ratio: Decimal, as_of: date) -> int:
    """Set aside ``ratio`` of the principal of every guaranteed loan funded by ``as_of`` that
    has no provision yet, in one statement; how many were provisioned."""
    result = await session.execute(
        text(
            "INSERT INTO guarantee_ledger"
            " (entry_key, entry_type, loan_id, lender_id, amount, effective_date, created_at)"
            " SELECT 'provision:' || l.id, :entry_type, l.id, l.lender_id,"
            " round(l.principal * CAST(:ratio AS numeric)), CAST(l.funded_at AS date), now()"
            " FROM loans AS l"
            " WHERE l.platform_guarantee AND l.funded_at IS NOT NULL"
            " AND CAST(l.funded_at AS date) <= :as_of"
            " AND NOT EXISTS (SELECT 1 FROM guarantee_ledger AS g"
            " WHERE g.entry_key = 'provision:' || l.id)"
            " ORDER BY l.id"  # two runs insert in one order: they queue, never deadlock
            " ON CONFLICT (entry_key) DO NOTHING"
        ),
        {"entry_type": GuaranteeEntryType.provision.value, "ratio": ratio, "as_of": as_of},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def mirror_recoveries(session: AsyncSession) -> int:
    """Credit the reserve with every recovery on a loan whose claim was paid (the platform
    holds the claim on the buyer from then on); how many were new."""
    result = await session.execute(
        text(
            "INSERT INTO guarantee_ledger"
            " (entry_key, entry_type, loan_id, lender_id, amount, effective_date, created_at)"
            " SELECT 'recovery:' || e.payment_id, :entry_type, c.loan_id, c.lender_id,"
            " e.amount, e.effective_date, now()"
            " FROM loan_ledger AS e JOIN guarantee_claims AS c ON c.loan_id = e.loan_id"
            " WHERE e.entry_type = :recovery"
            " ORDER BY e.payment_id"
            " ON CONFLICT (entry_key) DO NOTHING"
        ),
        {
            "entry_type": GuaranteeEntryType.recovery.value,
            "recovery": LedgerEntryType.recovery.value,
        },
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def add_guarantee_entry(session: AsyncSession, entry: GuaranteeEntry) -> bool:
    result = await session.execute(
        insert(GuaranteeEntry)
        .values(
            entry_key=entry.entry_key,
            entry_type=entry.entry_type.value,
            loan_id=entry.loan_id,
            lender_id=entry.lender_id,
            amount=entry.amount,
            effective_date=entry.effective_date,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["entry_key"])
        .returning(col(GuaranteeEntry.id))
    )
    return result.scalar_one_or_none() is not None


@dataclass(frozen=True)
class ReserveFigures:
    provisioned: int
    claims_paid: int
    recovered: int
    claims_count: int

    @property
    def reserve(self) -> int:
        return self.provisioned - self.claims_paid + self.recovered


async def reserve_figures(
    session: AsyncSession, *, lender_id: uuid.UUID | None = None
) -> ReserveFigures:
    """The reserve's entries summed by type (for one lender's loans, or the platform's)."""
    query = select(
        col(GuaranteeEntry.entry_type), func.sum(col(GuaranteeEntry.amount)), func.count()
    ).group_by(col(GuaranteeEntry.entry_type))
    if lender_id is not None:
        query = query.where(col(GuaranteeEntry.lender_id) == lender_id)
    sums = {
        str(kind): (int(total), int(count))
        for kind, total, count in (await session.execute(query)).all()
    }
    claims = sums.get(GuaranteeEntryType.claim.value, (0, 0))
    return ReserveFigures(
        provisioned=sums.get(GuaranteeEntryType.provision.value, (0, 0))[0],
        claims_paid=-claims[0],
        recovered=sums.get(GuaranteeEntryType.recovery.value, (0, 0))[0],
        claims_count=claims[1],
    )


async def guaranteed_exposure(session: AsyncSession) -> tuple[int, int]:
    """Active guaranteed loans and their ledger balance: what the guarantee stands behind."""
    balance = (
        select(func.coalesce(func.sum(col(LedgerEntry.amount)), 0))
        .where(col(LedgerEntry.loan_id) == col(Loan.id))
        .scalar_subquery()
    )
    count, total = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(balance), 0)).where(
                col(Loan.platform_guarantee).is_(True),
                col(Loan.status) == LoanStatus.active.value,
            )
        )
    ).one()
    return int(count), int(total)


async def recent_claims(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[GuaranteeClaim], int]:
    rows = await session.execute(
        select(GuaranteeClaim)
        .order_by(col(GuaranteeClaim.created_at).desc(), col(GuaranteeClaim.id))
        .limit(limit)
        .offset(offset)
    )
    total = (await session.execute(select(func.count()).select_from(GuaranteeClaim))).scalar_one()
    return list(rows.scalars().all()), int(total)
