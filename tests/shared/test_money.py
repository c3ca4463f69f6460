"""shared.money: the one rounding rule, in Decimal and for a fraction known as two integers."""

from __future__ import annotations

from decimal import Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from shared.money import round_fen, round_fen_ratio


@given(st.integers(-(10**15), 10**15), st.integers(1, 10**12))
def test_a_ratio_rounds_as_its_exact_decimal_does(numerator: int, denominator: int) -> None:
    with localcontext() as exact:
        exact.prec = 60  # enough digits that the Decimal quotient is exact where it matters
        assert round_fen_ratio(numerator, denominator) == round_fen(
            Decimal(numerator) / Decimal(denominator)
        )


def test_halves_round_away_from_zero() -> None:
    assert [round_fen_ratio(n, 2) for n in (1, 3, -1, -3)] == [1, 2, -1, -2]
    assert round_fen_ratio(149, 100) == 1 and round_fen_ratio(-151, 100) == -2
