"""The ledger checked against the instalment rows (``servicing.ledger_check.check``), on rows
and entries built in memory."""

from __future__ import annotations

from datetime import date

import pytest

from marketplace.servicing.ledger_check import check
from marketplace.servicing.models import Installment, LedgerEntry, LedgerEntryType
from tests.servicing.schedules import PRINCIPAL, in_memory_loan, in_memory_rows


@pytest.fixture(autouse=True)
def _stripe() -> None:
    """Pure functions: no Stripe emulator (overrides the servicing tests' autouse fixture)."""


def _entry(kind: LedgerEntryType, amount: int, n: int | None = None) -> LedgerEntry:
    return LedgerEntry(
        entry_type=kind,
        entry_key=f"{kind}-{n}",
        amount=amount,
        installment_n=n,
        effective_date=date(2026, 2, 15),
    )


def _paid_first(rows: list[Installment]) -> list[LedgerEntry]:
    first = rows[0]
    first.interest_charged = first.interest
    first.paid_amount = first.principal + first.interest
    return [
        _entry(LedgerEntryType.disbursement, PRINCIPAL),
        _entry(LedgerEntryType.instalment_due, first.interest, 1),
        _entry(LedgerEntryType.payment, -(first.principal + first.interest)),
    ]


def test_a_ledger_that_tells_the_rows_story_has_no_differences() -> None:
    rows = in_memory_rows()
    result = check(in_memory_loan(), rows, _paid_first(rows))
    assert result.differences == []
    assert result.ledger_balance == result.schedule_balance == PRINCIPAL - rows[0].principal


def test_each_disagreement_is_named() -> None:
    rows = in_memory_rows()
    entries = _paid_first(rows)
    rows[1].late_fee = 300  # charged on the row, never in the ledger
    entries.append(_entry(LedgerEntryType.payment, -5))  # received, never applied
    differences = check(in_memory_loan(), rows, entries).differences
    assert "late fee of instalment 2 differs" in differences
    assert any(d.startswith("payments received") for d in differences)
    assert any(d.startswith("ledger balance") for d in differences)


def test_a_written_off_balance_is_off_the_rows_books() -> None:
    rows = in_memory_rows()
    entries = _paid_first(rows)
    entries.append(_entry(LedgerEntryType.charge_off, -(PRINCIPAL - rows[0].principal)))
    result = check(in_memory_loan(), rows, entries)
    assert result.differences == []
    assert result.ledger_balance == 0
