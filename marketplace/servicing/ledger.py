"""The per-loan ledger: append-only entries, each written at most once, balances derived.

Signs are from the lender's side: a positive entry adds to what the borrower owes (the
principal disbursed, interest as it falls due, late fees), a negative one reduces it (payments,
the payoff, a charge-off). The sum of a loan's entries is its balance owed, to the fen.

Each entry has a key that names the business fact it records, unique per loan, so a job run
twice or a webhook delivered twice cannot write it twice:

=================  ==========================  =============================================
type               key                         amount
=================  ==========================  =============================================
disbursement       ``disbursement``            + principal
instalment_due     ``instalment_due:{n}``      + interest charged on instalment n
late_fee           ``late_fee:{n}``            + the late fee on instalment n
payment            ``payment:{payment_id}``    − a repayment credited
payoff             ``payoff:{payment_id}``     − the repayment that closed the loan
charge_off         ``charge_off``              − the balance written off (beyond a guarantee claim)
guarantee_claim    ``guarantee_claim``         − what the platform's guarantee paid the lender
recovery           ``recovery:{payment_id}``   + reinstates what a payment on a charged-off loan
                                               recovered (its ``payment`` entry takes it off)
=================  ==========================  =============================================

A late fee charged once has the key ``late_fee:{n}``; a daily-rate fee adds one entry a day,
``late_fee:{n}:{YYYY-MM-DD}``.

This module is the ledger's repository: appending, balances and entries are its SQL, kept here
beside the key scheme they enforce rather than in ``servicing/repository.py``.
"""

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
from shared.db import utcnow


def disbursement_key() -> str:
    return "disbursement"


def instalment_due_key(n: int) -> str:
    return f"instalment_due:{n}"


def late_fee_key(n: int, on: date | None = None) -> str:
    return f"late_fee:{n}" if on is None else f"late_fee:{n}:{on.isoformat()}"


def payment_key(payment_id: uuid.UUID) -> str:
    return f"payment:{payment_id}"


def payoff_key(payment_id: uuid.UUID) -> str:
    return f"payoff:{payment_id}"


def charge_off_key() -> str:
    return "charge_off"


def guarantee_claim_key() -> str:
    return "guarantee_claim"


def recovery_key(payment_id: uuid.UUID) -> str:
    return f"recovery:{payment_id}"


async def append(
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
        insert(LedgerEntry)
        .values(
            loan_id=loan_id,
            entry_type=entry_type.value,
            entry_key=entry_key,
            amount=amount,
            effective_date=effective_date,
            installment_n=installment_n,
            payment_id=payment_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["loan_id", "entry_key"])
        .returning(col(LedgerEntry.id))
    )
    return result.scalar_one_or_none() is not None


@dataclass(frozen=True)
class NewEntry:
    """An entry to append (``append_many``)."""

    loan_id: uuid.UUID
    entry_type: LedgerEntryType
    entry_key: str
    amount: int
    effective_date: date
    installment_n: int | None = None


APPEND_MANY_CHUNK = 2_000  # rows per INSERT: well under PostgreSQL's 32,767 parameters


async def append_many(
    session: AsyncSession, entries: Sequence[NewEntry]
) -> set[tuple[uuid.UUID, str]]:
    """Append each entry unless its loan already has one with its key, in a few statements;
    the ``(loan_id, entry_key)`` of those written."""
    written: set[tuple[uuid.UUID, str]] = set()
    now = utcnow()
    for start in range(0, len(entries), APPEND_MANY_CHUNK):
        chunk = entries[start : start + APPEND_MANY_CHUNK]
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


async def balance(session: AsyncSession, loan_id: uuid.UUID) -> int:
    """What the borrower owes on the loan now, by the ledger."""
    result = await session.execute(
        select(func.coalesce(func.sum(col(LedgerEntry.amount)), 0)).where(
            col(LedgerEntry.loan_id) == loan_id
        )
    )
    return int(result.scalar_one())


async def entries(session: AsyncSession, loan_id: uuid.UUID) -> list[LedgerEntry]:
    result = await session.execute(
        select(LedgerEntry).where(col(LedgerEntry.loan_id) == loan_id).order_by(col(LedgerEntry.id))
    )
    return list(result.scalars().all())
