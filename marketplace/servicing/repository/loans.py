"""Loans and their instalments as their owners (the buyer, the lender) read them, the
loan's status transitions, the names and owners shown beside them, and the facts funding
checks (due dates, one live loan per car)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    bindparam,
    func,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from marketplace.servicing import ledger as ledger_keys
from marketplace.servicing.models import (
    Installment,
    InstallmentStatus,
    LedgerEntry,
    LedgerEntryType,
    Loan,
    LoanStatus,
)
from pricing import ScheduleRow
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


@dataclass(frozen=True)
class LoanShown:
    """A loan with everything its detail shows, read in one statement (one snapshot)."""

    loan: Loan
    installments: list[Installment]
    lender_name: str
    dealer_name: str
    balance: int


_LENDER = aliased(Organization)
_DEALER = aliased(Organization)
# The loan's balance from its own ledger lines, once per loan (not per instalment row).
_BALANCE = (
    select(func.coalesce(func.sum(col(LedgerEntry.amount)), 0).label("balance"))
    .where(col(LedgerEntry.loan_id) == col(Loan.id))
    .lateral()
)
_BUYER_LOAN_SHOWN = (
    select(Loan, Installment, col(_LENDER.name), col(_DEALER.name), _BALANCE.c.balance)
    .outerjoin(_LENDER, col(_LENDER.id) == col(Loan.lender_id))
    .outerjoin(_DEALER, col(_DEALER.id) == col(Loan.dealer_id))
    .join(_BALANCE, true())
    .outerjoin(Installment, col(Installment.loan_id) == col(Loan.id))
    .where(col(Loan.id) == bindparam("loan_id"), col(Loan.buyer_id) == bindparam("buyer_id"))
    .order_by(col(Installment.n))
)


async def buyer_loan_shown(
    session: AsyncSession, loan_id: uuid.UUID, *, buyer_id: uuid.UUID
) -> LoanShown | None:
    """The buyer's own loan (another buyer's is None) with its schedule, its parties' names and
    its ledger balance, all from one statement: the loan's columns come once per instalment."""
    rows = (
        await session.execute(_BUYER_LOAN_SHOWN, {"loan_id": loan_id, "buyer_id": buyer_id})
    ).all()
    if not rows:
        return None
    loan, _, lender_name, dealer_name, balance = rows[0]
    return LoanShown(
        loan=loan,
        installments=[row[1] for row in rows if row[1] is not None],
        lender_name=lender_name or "",
        dealer_name=dealer_name or "",
        balance=int(balance),
    )


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


# One statement: the instalments from arrays (no ORM object per row) and, as a CTE, the loan's
# disbursement in the ledger. The loan was inserted just before, so neither can exist yet.
_BOOK_SCHEDULE = text(
    "WITH disbursement AS ("
    " INSERT INTO loan_ledger (loan_id, entry_type, entry_key, amount, effective_date, created_at)"
    " VALUES (CAST(:loan_id AS uuid), :entry_type, :entry_key, :amount, :effective_date,"
    " :created_at))"
    " INSERT INTO loan_installments (loan_id, n, due_date, payment, principal, interest, balance,"
    " status, paid_amount, late_fee, late_fee_paid)"
    " SELECT CAST(:loan_id AS uuid), s.n, s.due, s.payment, s.principal, s.interest, s.balance,"
    " :status, 0, 0, 0"
    " FROM unnest(CAST(:ns AS integer[]), CAST(:dues AS date[]), CAST(:payments AS bigint[]),"
    " CAST(:principals AS bigint[]), CAST(:interests AS bigint[]), CAST(:balances AS bigint[]))"
    " AS s(n, due, payment, principal, interest, balance)"
)


async def book_schedule(
    session: AsyncSession,
    loan_id: uuid.UUID,
    schedule: Sequence[ScheduleRow],
    dues: Sequence[date],
    *,
    disbursed: int,
    loan_date: date,
) -> None:
    """A just-booked loan's instalments (``schedule[i]`` due on ``dues[i]``) and its
    disbursement of ``disbursed`` in the ledger on ``loan_date``."""
    await session.execute(
        _BOOK_SCHEDULE,
        {
            "loan_id": loan_id,
            "entry_type": LedgerEntryType.disbursement.value,
            "entry_key": ledger_keys.disbursement_key(),
            "amount": disbursed,
            "effective_date": loan_date,
            "created_at": utcnow(),
            "status": InstallmentStatus.due.value,
            "ns": [row.n for row in schedule],
            "dues": list(dues),
            "payments": [row.payment for row in schedule],
            "principals": [row.principal for row in schedule],
            "interests": [row.interest for row in schedule],
            "balances": [row.balance for row in schedule],
        },
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
