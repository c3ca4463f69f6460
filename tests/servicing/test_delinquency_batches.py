"""The daily delinquency pass works through the loans it can change in batches: small batches
give the same outcome as one big one, and a second run as of the same day changes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.servicing.delinquency import run_delinquency
from marketplace.servicing.models import Installment, LedgerEntry
from tests.servicing.conftest import BookLoan, all_loans_reconcile, days_ago, today


async def test_loans_serviced_in_batches_of_one_end_as_in_one_pass(
    client: httpx.AsyncClient, session: AsyncSession, book_loan: BookLoan
) -> None:
    # ~100 days: instalments 1-3 late; ~45 days: instalment 1 late; 5 days: nothing due yet.
    loans = [await book_loan(loan_date=days_ago(days)) for days in (100, 45, 5)]
    lines: list[str] = []

    first = await run_delinquency(session, today(), progress=lines.append, batch_size=1)
    again = await run_delinquency(session, today(), batch_size=2)

    assert len(lines) == 3 and lines[-1].startswith("    3 of 3 loans to service")
    assert (first.loans_checked, first.installments_late, first.late_fees) == (3, 4, 4)
    assert first.interest_charged == 4
    # Every loan is serviced as of today: a second run the same day has nothing to visit.
    assert (again.loans_checked, again.installments_late, again.late_fees) == (0, 0, 0)
    assert again.interest_charged == 0
    fees = await session.execute(
        select(func.count())
        .select_from(LedgerEntry)
        .where(col(LedgerEntry.entry_type) == "late_fee")
    )
    assert fees.scalar_one() == 4
    late = await session.execute(
        select(func.count()).select_from(Installment).where(col(Installment.status) == "late")
    )
    assert late.scalar_one() == 4
    assert await all_loans_reconcile(session) == 3
    buckets = []
    for booked in loans:
        loan = (await client.get(f"/v1/buyer/loans/{booked.loan_id}", headers=booked.buyer)).json()
        buckets.append(loan["bucket"])
    assert buckets == ["61-90", "1-30", "current"]

    # The next day only the two loans behind need their days past due moved on.
    tomorrow = await run_delinquency(session, today() + timedelta(days=1))
    assert (tomorrow.loans_checked, tomorrow.late_fees) == (2, 0)
