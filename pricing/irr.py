"""The internal rate of return of a loan's cash flows, solved in ``Decimal``.

The borrower receives ``amount_received`` at month 0 and pays ``payments[n-1]`` at month n. With
one inflow followed only by outflows there is exactly one rate ``i`` (Descartes' rule of signs),
and the present value ``PV(i) = Σ p_n (1+i)^-n`` is decreasing and convex in ``i``, so Newton's
method converges monotonically once it is left of the root; a bracket guards every step and falls
back to bisection if an iterate ever leaves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from shared.money import round_rate

MONTHS_PER_YEAR = 12
#: Monthly-rate tolerance: far below the 1e-9 the APR is promised to, and cheap because Newton
#: doubles the correct digits each step.
IRR_TOLERANCE = Decimal("1e-20")
#: Decimals kept in a published APR / effective rate (1e-10, well under the 1e-9 promise).
RATE_PLACES = 10
_MAX_ITERATIONS = 200
_CONTEXT = Context(prec=42, rounding=ROUND_HALF_EVEN)


def _excess_and_slope(
    rate: Decimal, amount_received: int, payments: Sequence[Decimal], weighted: Sequence[Decimal]
) -> tuple[Decimal, Decimal]:
    """Return ``PV(rate) − amount_received`` and its derivative with respect to ``rate``, given
    the payments ``p_n`` and ``n·p_n`` (as ``Decimal``, last month first).

    With ``v = 1/(1+rate)``: ``PV = v·Σ p_n v^(n−1)`` and ``dPV/d rate = −v²·Σ n·p_n v^(n−1)``,
    both sums by Horner's rule (a multiplication and an addition a month each).
    """
    discount = 1 / (1 + rate)
    present_value = slope = Decimal(0)
    for payment, weight in zip(payments, weighted, strict=True):
        present_value = present_value * discount + payment
        slope = slope * discount + weight
    return present_value * discount - amount_received, -slope * discount * discount


def solve_monthly_irr(
    amount_received: int, payments: Sequence[int], guess: Decimal | None = None
) -> Decimal:
    """Return the monthly rate ``i ≥ 0`` at which the payments are worth exactly the amount
    received, to within 1e-20.

    Requires ``amount_received > 0`` and payments that are non-negative and sum to at least the
    amount received (a loan never pays the borrower to borrow, so its IRR is never negative).
    """
    if amount_received <= 0:
        raise ValueError("amount_received must be positive")
    if any(payment < 0 for payment in payments) or sum(payments) < amount_received:
        raise ValueError("payments must be non-negative and repay at least the amount received")
    last_first = [Decimal(payment) for payment in reversed(payments)]
    months = len(payments)
    weighted = [(months - k) * payment for k, payment in enumerate(last_first)]
    # Newton's error after a step of size s is at most (f''/2|f'|)·s² ≤ (months + 1)/2 · s²
    # (f'' ≤ (months + 1)·|f'| for these cash flows): once that is under the tolerance, the
    # step just taken already lands within it, and no further evaluation is needed.
    settled_step = (IRR_TOLERANCE / (months + 1)).sqrt(_CONTEXT)
    with localcontext(_CONTEXT):
        low = Decimal(0)
        high: Decimal | None = None
        rate = guess if guess is not None and guess >= 0 else Decimal(0)
        for _ in range(_MAX_ITERATIONS):
            excess, slope = _excess_and_slope(rate, amount_received, last_first, weighted)
            if excess == 0:
                return rate
            if excess > 0:
                low = rate  # the payments are worth too much: the rate must be higher
            else:
                high = rate
            candidate = rate - excess / slope
            in_bracket = candidate > low and (high is None or candidate < high)
            if in_bracket and abs(candidate - rate) < settled_step:
                return candidate
            if not in_bracket:
                candidate = (low + high) / 2 if high is not None else low * 2 + Decimal("0.01")
            if abs(candidate - rate) < IRR_TOLERANCE:
                return candidate
            rate = candidate
    raise ArithmeticError("IRR did not converge")  # unreachable for loan-shaped cash flows


def annualise(monthly_rate: Decimal) -> tuple[Decimal, Decimal]:
    """Return the nominal APR (monthly × 12) and the effective annual rate ((1+i)^12 − 1), both
    rounded to 10 decimals."""
    with localcontext(_CONTEXT) as context:
        nominal = monthly_rate * MONTHS_PER_YEAR
        effective = (1 + monthly_rate) ** MONTHS_PER_YEAR - 1
        # A fee of nearly the whole principal makes these astronomically large: keep every
        # integer digit so that rounding to 10 decimals cannot overflow the precision.
        context.prec = max(context.prec, effective.adjusted() + RATE_PLACES + 2)
        return round_rate(nominal, RATE_PLACES), round_rate(effective, RATE_PLACES)
