"""Collections terms and the late-fee arithmetic: pure, no I/O.

A product may set how it collects (``CollectionTerms``): when a failed automatic debit is retried,
how late fees are assessed, when a late account is reported to the bureau and when it is charged
off. Every setting is optional; the defaults are the platform's.

**The cap on late fees.** Whatever a product sets, the fees on a loan are capped so the loan's
all-in APR — its interest, the upfront fee and every late fee together, on the same IRR basis as
``quote_loan`` (monthly periods, nominal APR = 12 × the monthly rate) — stays at or under the
legal cap. The IRR of the borrower's flows is at most the cap exactly when their present value at
the cap is at most what was lent (the present value falls as the rate rises), so the room left
for fees is::

    room = (principal − upfront fee) − Σ payment_k·v^k − Σ fee_n·v^n,   v = 1 / (1 + cap/12)

with each fee counted as if paid on its instalment's due date: a buyer who pays later only lowers
the real IRR, so the cap holds whenever the buyer actually pays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared.money import floor_fen, round_fen


class LateFeeKind(StrEnum):
    percent_of_payment = "percent_of_payment"  # once per late instalment (the default)
    flat = "flat"  # a fixed amount, once per late instalment
    daily_rate = "daily_rate"  # each day, a rate on the instalment's overdue amount


DEFAULT_RETRY_DAYS: tuple[int, ...] = (0, 1, 3, 7)
MAX_REMINDER_DAYS_BEFORE = 15  # the most ``reminder_days_before`` a product may set


@dataclass(frozen=True)
class LateFeeTerms:
    kind: LateFeeKind = LateFeeKind.percent_of_payment
    rate: Decimal = Decimal("0.05")  # of the payment (percent_of_payment) or per day (daily_rate)
    amount: int = 20_000  # the flat fee, or the cap on a percentage fee (fen)


@dataclass(frozen=True)
class CollectionTerms:
    """How a product collects; ``from_json(None)`` is the platform's defaults."""

    retry_days: tuple[int, ...] = DEFAULT_RETRY_DAYS  # debit attempts: due date + each
    reminder_days_before: int = 3  # the reminder before a due date
    grace_days: int = 3  # an instalment is late once more than this many days overdue
    late_fee: LateFeeTerms = field(default_factory=LateFeeTerms)
    bureau_report_days: int = 30  # a late account is reported to the credit bureau …
    bureau_notice_days: int = 7  # … after a notice this many days before
    charge_off_days: int = 180

    @classmethod
    def from_json(cls, stored: Mapping[str, Any] | None) -> CollectionTerms:
        """The terms a product version stored (its ``collections`` JSON); defaults for the rest."""
        if not stored:
            return cls()
        values: dict[str, Any] = {}
        for name in (
            "reminder_days_before",
            "grace_days",
            "bureau_report_days",
            "bureau_notice_days",
            "charge_off_days",
        ):
            if stored.get(name) is not None:
                values[name] = int(stored[name])
        if stored.get("retry_days") is not None:
            values["retry_days"] = tuple(int(day) for day in stored["retry_days"])
        fee = stored.get("late_fee")
        if fee:
            kind = LateFeeKind(fee["kind"])
            default = LateFeeTerms()
            values["late_fee"] = LateFeeTerms(
                kind=kind,
                rate=Decimal(str(fee["rate"])) if fee.get("rate") is not None else default.rate,
                amount=int(fee["amount"]) if fee.get("amount") is not None else default.amount,
            )
        return cls(**values)

    def attempt_day(self, attempt: int) -> int | None:
        """Days after the due date of debit attempt ``attempt`` (1-based); None past the last."""
        return self.retry_days[attempt - 1] if 0 < attempt <= len(self.retry_days) else None


def late_fee_due(
    terms: LateFeeTerms, *, payment: int, overdue: int, late_since: date, as_of: date
) -> int:
    """The late fee an instalment has earned by ``as_of`` under the product's terms, before the
    APR cap: a one-off fee once late, or a daily rate on what is overdue for each day late
    (``late_since`` is its first late day)."""
    if as_of < late_since or overdue <= 0:
        return 0
    if terms.kind == LateFeeKind.flat:
        return terms.amount
    if terms.kind == LateFeeKind.percent_of_payment:
        return min(round_fen(payment * terms.rate), terms.amount)
    days = (as_of - late_since).days + 1
    return round_fen(overdue * terms.rate * days)


def present_value(amount: int, *, n: int, cap: Decimal) -> Decimal:
    """``amount`` paid at the end of month ``n``, discounted at the cap's monthly rate."""
    return amount / (1 + cap / 12) ** n


def fee_room(
    *,
    principal: int,
    upfront_fee: int,
    payments: Sequence[int],
    fees: Mapping[int, int],
    cap: Decimal,
) -> Decimal:
    """The present value at the cap still free for fees (see the module docstring); ``payments``
    are the scheduled payments of instalments 1…n, ``fees`` the fees charged by instalment."""
    room = Decimal(principal - upfront_fee)
    for n, payment in enumerate(payments, start=1):
        room -= present_value(payment, n=n, cap=cap)
    for n, fee in fees.items():
        room -= present_value(fee, n=n, cap=cap)
    return room


def capped_fee(room: Decimal, *, n: int, wanted: int, cap: Decimal) -> int:
    """The most of ``wanted`` fen that instalment ``n`` may still be charged with ``room`` left."""
    if wanted <= 0 or room <= 0:
        return 0
    return max(0, min(wanted, floor_fen(room * (1 + cap / 12) ** n)))
