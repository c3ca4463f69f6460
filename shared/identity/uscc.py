"""The unified social credit code (统一社会信用代码, GB 32100-2015), checked by python-stdnum."""

from __future__ import annotations

from stdnum.cn import uscc

from shared.identifiers import normalize_uscc

__all__ = ["normalize_uscc", "uscc_check_character"]


def uscc_check_character(first17: str) -> str:
    """The 18th character that GB 32100-2015 computes from the first 17 (for demos and tests)."""
    return str(uscc.calc_check_digit(first17))
