"""Collections terms and the late-fee cap: pure arithmetic."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pricing import quote_loan
from pricing.collections import (
    CollectionTerms,
    LateFeeKind,
    LateFeeTerms,
    capped_fee,
    fee_room,
    late_fee_due,
    present_value,
)
from pricing.irr import annualise, solve_monthly_irr

CAP = Decimal("0.24")


def test_unset_terms_are_the_platform_defaults() -> None:
    assert CollectionTerms.from_json(None) == CollectionTerms()
    terms = CollectionTerms.from_json(
        {"retry_days": [0, 2], "late_fee": {"kind": "daily_rate", "rate": "0.0005"}}
    )
    assert terms.retry_days == (0, 2) and terms.charge_off_days == 180
    assert terms.late_fee == LateFeeTerms(LateFeeKind.daily_rate, Decimal("0.0005"), 20_000)
    assert [terms.attempt_day(k) for k in (1, 2, 3)] == [0, 2, None]


def test_a_daily_fee_grows_with_each_late_day_and_a_flat_one_does_not() -> None:
    late_since = date(2027, 1, 19)
    daily = LateFeeTerms(LateFeeKind.daily_rate, Decimal("0.0005"))
    flat = LateFeeTerms(LateFeeKind.flat, amount=5_000)
    for terms, expected in ((daily, [0, 150, 450]), (flat, [0, 5_000, 5_000])):
        fees = [
            late_fee_due(terms, payment=300_000, overdue=300_000, late_since=late_since, as_of=d)
            for d in (late_since - timedelta(days=1), late_since, late_since + timedelta(days=2))
        ]
        assert fees == expected


def test_fees_are_capped_so_the_all_in_apr_never_passes_the_legal_cap() -> None:
    # A loan priced just under the cap leaves little room; a greedy product wants ¥1,000 a month.
    quote = quote_loan(10_000_000, Decimal("0.2350"), 12, "equal_installment", 0)
    payments = [row.payment for row in quote.schedule]
    fees: dict[int, int] = {}
    for n in range(1, 13):
        room = fee_room(principal=10_000_000, upfront_fee=0, payments=payments, fees=fees, cap=CAP)
        fees[n] = capped_fee(room, n=n, wanted=100_000, cap=CAP)
    assert 0 < sum(fees.values()) < 12 * 100_000  # the cap bound
    flows = [payment + fees.get(n, 0) for n, payment in enumerate(payments, start=1)]
    apr, _ = annualise(solve_monthly_irr(10_000_000, flows))
    assert apr <= CAP
    # …and one fen more on any instalment would pass it.
    room = fee_room(principal=10_000_000, upfront_fee=0, payments=payments, fees=fees, cap=CAP)
    assert room < present_value(1, n=12, cap=CAP)
    assert capped_fee(room, n=12, wanted=1, cap=CAP) == 0
