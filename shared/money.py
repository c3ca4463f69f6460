"""Money and rates: the one place that owns rounding.

Money is an ``int`` count of fen (1 CNY = 100 fen) everywhere it is stored or sent.
Rates are ``Decimal`` fractions (``Decimal("0.0899")`` is 8.99 %). Never ``float``.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

FEN_PER_YUAN = 100


def round_fen(amount: Decimal) -> int:
    """Round a fractional amount of fen to a whole fen, half away from zero (四舍五入)."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def round_fen_ratio(numerator: int, denominator: int) -> int:
    """``round_fen(numerator / denominator)`` in integers, exactly and without a Decimal: the
    same half-away-from-zero rule for a fraction known as two integers (``denominator > 0``),
    for loops too hot for Decimal division (an amortization schedule)."""
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def yuan(amount_yuan: int | str | Decimal) -> int:
    """Convert an amount in yuan to fen, e.g. ``yuan(150_000) == 15_000_000``."""
    return round_fen(Decimal(amount_yuan) * FEN_PER_YUAN)


def format_cny(amount_fen: int) -> str:
    """Format fen for people: ``format_cny(1234567) == '¥12,345.67'``."""
    sign = "-" if amount_fen < 0 else ""
    whole, cents = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}¥{whole:,}.{cents:02d}"


def floor_fen(amount: Decimal) -> int:
    """Round a non-negative fractional amount of fen down to a whole fen (never over-promise)."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_FLOOR))


def round_down_to(amount_fen: int, unit_fen: int) -> int:
    """Round whole fen down to a multiple of ``unit_fen``, e.g. a credit line to whole ¥100."""
    if unit_fen <= 0:
        raise ValueError("unit_fen must be positive")
    return amount_fen - amount_fen % unit_fen


def round_rate(rate: Decimal, places: int = 4) -> Decimal:
    """Round a rate fraction to ``places`` decimals, half up: ``round_rate(Decimal('0.045678')) ==
    Decimal('0.0457')`` (4 places is a hundredth of a percentage point)."""
    return rate.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_rate(rate: Decimal, places: int = 2) -> str:
    """Format a rate fraction as a percentage for people: ``format_rate(Decimal('0.0899')) ==
    '8.99%'``."""
    return f"{round_rate(rate * 100, places)}%"
