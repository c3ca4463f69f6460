"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, checksummed."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_character(first17: str) -> str:
    """The 18th character that GB 32100-2015 computes from the first 17."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(value: str) -> str:
    """Return the code in canonical upper case, or raise ValueError saying what is wrong."""
    code = value.strip().upper()
    if len(code) != 18:
        raise ValueError("a unified social credit code has 18 characters")
    if any(c not in ALPHABET for c in code):
        raise ValueError(
            "a unified social credit code uses digits and letters other than I O S V Z"
        )
    if uscc_check_character(code[:17]) != code[17]:
        raise ValueError("the unified social credit code's check character does not match")
    return code
