"""The 35 platform sub-grades A1…G5 and their probability-of-default (PD) bands.

A grade's band is ``[ceiling of the grade before, own ceiling)``: A1 starts at PD 0, and a PD at
or above G5's ceiling has no grade (declined). Ceilings strictly increase, so a worse grade always
means a higher PD.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from decimal import Decimal

from pricing.errors import PricingInputError

GRADE_LETTERS = "ABCDEFG"
SUB_GRADES: tuple[str, ...] = tuple(
    f"{letter}{step}" for letter in GRADE_LETTERS for step in range(1, 6)
)
_RANK = {grade: rank for rank, grade in enumerate(SUB_GRADES)}


def grade_rank(grade: str) -> int:
    """Return 0 for A1 up to 34 for G5, or raise ``PricingInputError`` for an unknown grade."""
    try:
        return _RANK[grade]
    except KeyError:
        raise PricingInputError("grade", f"unknown grade {grade!r}; expected A1…G5") from None


def grade_letter(grade: str) -> str:
    """Return the letter grade (``'B'`` for ``'B3'``) that per-grade policy caps are keyed by."""
    return SUB_GRADES[grade_rank(grade)][0]


def validate_pd_ceilings(pd_ceilings: Sequence[Decimal]) -> None:
    """Raise ``ValueError`` unless there are 35 strictly increasing ceilings inside (0, 1)."""
    if len(pd_ceilings) != len(SUB_GRADES):
        raise ValueError(f"expected {len(SUB_GRADES)} PD ceilings, got {len(pd_ceilings)}")
    previous = Decimal(0)
    for grade, ceiling in zip(SUB_GRADES, pd_ceilings, strict=True):
        if not previous < ceiling < 1:
            raise ValueError(f"PD ceiling of {grade} must exceed the previous one and be below 1")
        previous = ceiling


def grade_for_pd(pd: Decimal, pd_ceilings: Sequence[Decimal]) -> str | None:
    """Return the sub-grade whose band holds ``pd``, or None when it is beyond G5's band."""
    index = bisect_right(pd_ceilings, pd)
    return SUB_GRADES[index] if index < len(SUB_GRADES) else None


def pd_band(grade: str, pd_ceilings: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """Return the ``[lower, upper)`` PD band of ``grade``."""
    rank = grade_rank(grade)
    lower = pd_ceilings[rank - 1] if rank else Decimal(0)
    return lower, pd_ceilings[rank]
