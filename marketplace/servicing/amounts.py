"""What a loan's instalment rows add up to — paid, owed, the payoff on a day, days past due and
their bucket. Pure arithmetic on the rows (no session, no clock): the loans, crediting,
delinquency, collections and the contract all read their figures from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from marketplace.servicing.exceptions import PayoffDateInvalid
from marketplace.servicing.models import Bucket, Installment, InstallmentStatus, Loan
from pricing import PayoffQuote, payoff_quote
from pricing.loan_math import ScheduleRow


def schedule_of(rows: Sequence[Installment]) -> tuple[ScheduleRow, ...]:
    """The contract schedule, as the calculator states it."""
    return tuple(ScheduleRow(r.n, r.payment, r.principal, r.interest, r.balance) for r in rows)


def principal_paid(row: Installment) -> int:
    """Within an instalment, payments go to its interest first, then its principal."""
    if row.status == InstallmentStatus.paid:
        return row.principal
    return min(max(row.paid_amount - (row.interest_charged or 0), 0), row.principal)


def fee_owed(row: Installment) -> int:
    return row.late_fee - row.late_fee_paid


def installment_owed(row: Installment) -> int:
    """What settles this instalment now: its fees, then principal and interest (the scheduled
    interest if it has not been charged yet), less what was already paid."""
    if row.status == InstallmentStatus.paid:
        return 0
    interest = row.interest if row.interest_charged is None else row.interest_charged
    return fee_owed(row) + row.principal + interest - row.paid_amount


@dataclass(frozen=True)
class Share:
    """What a payment pays of instalment ``n``: its late ``fee``, then (when anything is left
    after the fee, so its interest falls due now if it was not charged yet) ``paid`` towards
    its interest and principal."""

    n: int
    fee: int
    reaches_instalment: bool
    paid: int = 0


def waterfall(rows: Sequence[Installment], amount: int) -> tuple[list[Share], int]:
    """How ``amount`` is credited, oldest unpaid instalment first: its late fees, then its
    interest and principal (the scheduled interest if it has not been charged yet), then the
    next instalment. The shares, and what is left over (an overpayment)."""
    remaining = amount
    shares: list[Share] = []
    for row in rows:
        if remaining <= 0:
            break
        if row.status == InstallmentStatus.paid:
            continue
        fee = min(fee_owed(row), remaining)
        remaining -= fee
        if remaining <= 0:
            shares.append(Share(row.n, fee, reaches_instalment=False))
            break
        interest = row.interest if row.interest_charged is None else row.interest_charged
        paid = min(row.principal + interest - row.paid_amount, remaining)
        remaining -= paid
        shares.append(Share(row.n, fee, reaches_instalment=True, paid=paid))
    return shares, remaining


def outstanding_principal(rows: Sequence[Installment]) -> int:
    return sum(row.principal - principal_paid(row) for row in rows)


def payoff_for(loan: Loan, rows: Sequence[Installment], on: date) -> PayoffQuote:
    """What closes the loan on ``on``: ``pricing.payoff_quote`` for the instalments whose
    interest is not charged yet, plus what remains of those already charged, plus late fees."""
    if on < loan.loan_date:
        raise PayoffDateInvalid()
    open_rows = [r for r in rows if r.status != InstallmentStatus.paid]
    uncharged = {r.n for r in open_rows if r.interest_charged is None}
    fees = sum(fee_owed(r) for r in open_rows)
    quote = payoff_quote(
        loan.loan_date, schedule_of(rows), {r.n for r in rows} - uncharged, on, fees_due=fees
    )
    principal, interest = quote.principal, quote.interest
    for row in open_rows:
        if row.interest_charged is not None:
            charged = row.interest_charged
            principal += row.principal - principal_paid(row)
            interest += charged - min(row.paid_amount, charged)
    return PayoffQuote(
        on=on, amount=principal + interest + fees, principal=principal, interest=interest, fees=fees
    )


def interest_to_payoff(loan: Loan, rows: Sequence[Installment], n: int, on: date) -> int:
    """Instalment ``n``'s interest if the loan is paid off on ``on``: all of it once due, the
    part accrued in the current period, nothing for later periods (``pricing.payoff_quote``)."""
    others = {r.n for r in rows if r.n != n}
    return payoff_quote(loan.loan_date, schedule_of(rows), others, on).interest


def days_past_due(rows: Sequence[Installment], as_of: date) -> int:
    """Days since the oldest unpaid instalment fell due (0 if none is overdue)."""
    overdue = [
        r.due_date for r in rows if r.status != InstallmentStatus.paid and r.due_date < as_of
    ]
    return (as_of - min(overdue)).days if overdue else 0


def bucket_for(days: int) -> Bucket:
    if days <= 0:
        return Bucket.current
    if days <= 30:
        return Bucket.dpd_1_30
    if days <= 60:
        return Bucket.dpd_31_60
    if days <= 90:
        return Bucket.dpd_61_90
    return Bucket.dpd_90_plus


def worse_bucket(days: int, *, than: int) -> bool:
    """Whether ``days`` past due puts a loan in a worse bucket than ``than`` days did."""
    return days > than and bucket_for(days) != bucket_for(than)
