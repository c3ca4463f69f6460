"""A loan's ledger checked against its instalment rows, to the fen (the invariant the tests and
the operators rely on: both tell the same story of what was lent, charged, paid and written off)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing import repository
from marketplace.servicing.exceptions import LoanNotFound
from marketplace.servicing.models import Installment, LedgerEntry, LedgerEntryType, Loan


@dataclass(frozen=True)
class Reconciliation:
    """A loan's ledger against its schedule rows; ``differences`` is empty when they agree."""

    ledger_balance: int
    schedule_balance: int
    differences: list[str]


async def reconcile(session: AsyncSession, loan_id: uuid.UUID) -> Reconciliation:
    """Check, to the fen, that the ledger and the instalment rows tell the same story."""
    loan = await repository.loan_for_platform(session, loan_id)
    if loan is None:
        raise LoanNotFound()
    rows = await repository.installments(session, loan_id)
    return check(loan, rows, await repository.ledger_entries(session, loan_id))


def check(
    loan: Loan, rows: Sequence[Installment], entries: Sequence[LedgerEntry]
) -> Reconciliation:
    """The comparison itself, on rows and entries already read."""
    differences: list[str] = []

    def total(entry_type: LedgerEntryType, n: int | None = None) -> int:
        return sum(
            e.amount
            for e in entries
            if e.entry_type == entry_type and (n is None or e.installment_n == n)
        )

    if total(LedgerEntryType.disbursement) != loan.principal:
        differences.append("disbursement differs from the principal")
    if sum(r.principal for r in rows) != loan.principal:
        differences.append("schedule principal differs from the principal")
    for row in rows:
        if total(LedgerEntryType.instalment_due, row.n) != (row.interest_charged or 0):
            differences.append(f"interest of instalment {row.n} differs")
        if total(LedgerEntryType.late_fee, row.n) != row.late_fee:
            differences.append(f"late fee of instalment {row.n} differs")
    received = -(total(LedgerEntryType.payment) + total(LedgerEntryType.payoff))
    applied = sum(r.paid_amount + r.late_fee_paid for r in rows)
    if received != applied:
        differences.append(f"payments received {received} differ from applied {applied}")
    owed = sum(
        r.principal + (r.interest_charged or 0) + r.late_fee - r.paid_amount - r.late_fee_paid
        for r in rows
    )
    # Written off, paid by the guarantee, or reinstated by a recovery: off the rows' books.
    schedule_balance = (
        owed
        + total(LedgerEntryType.charge_off)
        + total(LedgerEntryType.guarantee_claim)
        + total(LedgerEntryType.recovery)
    )
    ledger_balance = sum(e.amount for e in entries)
    if ledger_balance != schedule_balance:
        differences.append(f"ledger balance {ledger_balance} != schedule {schedule_balance}")
    return Reconciliation(ledger_balance, schedule_balance, differences)
