"""The arithmetic on a loan's instalment rows (``servicing.amounts``): no database, no clock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from marketplace.servicing import amounts
from marketplace.servicing.exceptions import PayoffDateInvalid
from marketplace.servicing.models import Bucket, InstallmentStatus
from pricing import quote_loan
from tests.servicing.schedules import PRINCIPAL, TERM, in_memory_loan, in_memory_rows


@pytest.fixture(autouse=True)
def _stripe() -> None:
    """Pure functions: no Stripe emulator (overrides the servicing tests' autouse fixture)."""


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-3, Bucket.current),
        (0, Bucket.current),
        (1, Bucket.dpd_1_30),
        (30, Bucket.dpd_1_30),
        (31, Bucket.dpd_31_60),
        (60, Bucket.dpd_31_60),
        (61, Bucket.dpd_61_90),
        (90, Bucket.dpd_61_90),
        (91, Bucket.dpd_90_plus),
        (400, Bucket.dpd_90_plus),
    ],
)
def test_days_past_due_fall_in_buckets_at_30_60_and_90(days: int, bucket: Bucket) -> None:
    assert amounts.bucket_for(days) == bucket


def test_a_worse_bucket_is_a_later_bucket_not_just_more_days() -> None:
    assert amounts.worse_bucket(31, than=30)
    assert amounts.worse_bucket(1, than=0)
    assert not amounts.worse_bucket(29, than=5)  # still 1-30
    assert not amounts.worse_bucket(10, than=40)  # better, not worse


def test_days_past_due_count_from_the_oldest_unpaid_instalment() -> None:
    rows = in_memory_rows()
    first, second = rows[0].due_date, rows[1].due_date
    assert amounts.days_past_due(rows, first) == 0  # due today is not overdue
    assert amounts.days_past_due(rows, second) == (second - first).days
    rows[0].status = InstallmentStatus.paid
    assert amounts.days_past_due(rows, second) == 0


def test_the_waterfall_pays_fees_then_the_oldest_instalment_then_the_next() -> None:
    rows = in_memory_rows()
    rows[0].late_fee = 5_000
    rows[1].late_fee = 700
    owed_first = rows[0].principal + rows[0].interest
    shares, left = amounts.waterfall(rows, 5_000 + owed_first + 700 + 100)
    assert left == 0
    assert shares == [
        amounts.Share(1, 5_000, reaches_instalment=True, paid=owed_first),
        amounts.Share(2, 700, reaches_instalment=True, paid=100),
    ]


def test_the_waterfall_skips_paid_rows_and_stops_inside_a_fee() -> None:
    rows = in_memory_rows()
    rows[0].status = InstallmentStatus.paid
    rows[1].late_fee, rows[1].late_fee_paid = 1_000, 400
    shares, left = amounts.waterfall(rows, 600)
    assert (shares, left) == ([amounts.Share(2, 600, reaches_instalment=False)], 0)


def test_the_waterfall_counts_charged_interest_and_what_was_paid_and_returns_the_overpayment() -> (
    None
):
    rows = in_memory_rows()[:1]
    rows[0].interest_charged = rows[0].interest - 50  # e.g. accrued to an early payoff
    rows[0].paid_amount = 1_000
    owed = rows[0].principal + rows[0].interest_charged - 1_000
    shares, left = amounts.waterfall(rows, owed + 42)
    assert shares == [amounts.Share(1, 0, reaches_instalment=True, paid=owed)]
    assert left == 42


def test_nothing_paid_credits_nothing() -> None:
    assert amounts.waterfall(in_memory_rows(), 0) == ([], 0)


def test_an_instalment_owes_fees_principal_and_interest_less_what_was_paid() -> None:
    row = in_memory_rows()[0]
    row.late_fee, row.late_fee_paid, row.paid_amount = 900, 200, 1_000
    assert amounts.fee_owed(row) == 700
    assert amounts.installment_owed(row) == 700 + row.principal + row.interest - 1_000
    row.interest_charged = 0
    assert amounts.installment_owed(row) == 700 + row.principal - 1_000
    row.status = InstallmentStatus.paid
    assert amounts.installment_owed(row) == 0


def test_payments_within_an_instalment_go_to_interest_first() -> None:
    rows = in_memory_rows()
    row = rows[0]
    row.interest_charged = row.interest
    row.paid_amount = row.interest - 1
    assert amounts.principal_paid(row) == 0
    row.paid_amount = row.interest + 10
    assert amounts.principal_paid(row) == 10
    assert amounts.outstanding_principal(rows) == PRINCIPAL - 10
    row.status = InstallmentStatus.paid
    assert amounts.principal_paid(row) == row.principal


def test_the_schedule_is_the_calculators() -> None:
    assert amounts.schedule_of(in_memory_rows()) == tuple(
        quote_loan(PRINCIPAL, Decimal("0.12"), TERM).schedule
    )


def test_a_payoff_adds_late_fees_and_refuses_a_day_before_thein_memory_loan() -> None:
    loan, rows = in_memory_loan(), in_memory_rows()
    on = rows[0].due_date
    plain = amounts.payoff_for(loan, rows, on)
    assert plain.principal == PRINCIPAL
    assert plain.amount == plain.principal + plain.interest
    rows[0].late_fee = 1_500
    with_fee = amounts.payoff_for(loan, rows, on)
    assert (with_fee.fees, with_fee.amount) == (1_500, plain.amount + 1_500)
    with pytest.raises(PayoffDateInvalid):
        amounts.payoff_for(loan, rows, date(2026, 1, 14))
