"""The per-loan ledger's SQL: entries appended at most once per key (the key scheme and the
signs are explained in ``servicing.ledger``), and balances summed from them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.servicing.models import LedgerEntry, LedgerEntryType
from shared.db import table_of, utcnow
from shared.writes import batches

# Built once, bound per entry (building the INSERT cost more CPU than sending it).
_LEDGER = table_of(LedgerEntry)
_APPEND = (
    insert(_LEDGER)
    .on_conflict_do_nothing(index_elements=["loan_id", "entry_key"])
    .returning(_LEDGER.c.id)
)


async def append_ledger_entry(
    session: AsyncSession,
    *,
    loan_id: uuid.UUID,
    entry_type: LedgerEntryType,
    entry_key: str,
    amount: int,
    effective_date: date,
    installment_n: int | None = None,
    payment_id: uuid.UUID | None = None,
) -> bool:
    """Append one entry unless the loan already has one with this key; True if written."""
    result = await session.execute(
        _APPEND,
        {
            "loan_id": loan_id,
            "entry_type": entry_type.value,
            "entry_key": entry_key,
            "amount": amount,
            "effective_date": effective_date,
            "installment_n": installment_n,
            "payment_id": payment_id,
            "created_at": utcnow(),
        },
    )
    return result.scalar_one_or_none() is not None


@dataclass(frozen=True)
class NewLedgerEntry:
    """An entry to append (``append_ledger_entries``)."""

    loan_id: uuid.UUID
    entry_type: LedgerEntryType
    entry_key: str
    amount: int
    effective_date: date
    installment_n: int | None = None


async def append_ledger_entries(
    session: AsyncSession, entries: Sequence[NewLedgerEntry]
) -> set[tuple[uuid.UUID, str]]:
    """Append each entry unless its loan already has one with its key, in a few statements;
    the ``(loan_id, entry_key)`` of those written."""
    written: set[tuple[uuid.UUID, str]] = set()
    now = utcnow()
    for chunk in batches(entries, parameters_per_row=7):
        result = await session.execute(
            insert(LedgerEntry)
            .values(
                [
                    {
                        "loan_id": entry.loan_id,
                        "entry_type": entry.entry_type.value,
                        "entry_key": entry.entry_key,
                        "amount": entry.amount,
                        "effective_date": entry.effective_date,
                        "installment_n": entry.installment_n,
                        "created_at": now,
                    }
                    for entry in chunk
                ]
            )
            .on_conflict_do_nothing(index_elements=["loan_id", "entry_key"])
            .returning(col(LedgerEntry.loan_id), col(LedgerEntry.entry_key))
        )
        written.update((loan_id, key) for loan_id, key in result.all())
    return written


async def ledger_balance(session: AsyncSession, loan_id: uuid.UUID) -> int:
    """What the borrower owes on the loan now, by the ledger."""
    result = await session.execute(
        select(func.coalesce(func.sum(col(LedgerEntry.amount)), 0)).where(
            col(LedgerEntry.loan_id) == loan_id
        )
    )
    return int(result.scalar_one())


async def ledger_entries(session: AsyncSession, loan_id: uuid.UUID) -> list[LedgerEntry]:
    result = await session.execute(
        select(LedgerEntry).where(col(LedgerEntry.loan_id) == loan_id).order_by(col(LedgerEntry.id))
    )
    return list(result.scalars().all())


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
