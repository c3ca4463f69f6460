"""Vehicle identification numbers: ISO 3779 with the check digit in position 9 (GB 16735).

China's GB 16735 makes the North American check digit mandatory, so every VIN a Chinese dealer
types can be verified offline: 17 characters from the alphabet without I, O and Q, and the
ninth the weighted sum of the others modulo 11 (10 is written ``X``).
"""

from __future__ import annotations

import re

from shared.identifiers import normalize_code

VIN_LENGTH = 17
CHECK_DIGIT_POSITION = 8  # zero-based: the ninth character
_VIN_PATTERN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_LETTER_VALUES = dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9),
        strict=True,
    )
)


def _value(character: str) -> int:
    return int(character) if character.isdigit() else _LETTER_VALUES[character]


def check_digit(vin: str) -> str:
    """The check character a 17-character VIN must carry in position 9."""
    total = sum(_value(c) * w for c, w in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def normalize_vin(value: str) -> str:
    """Return the VIN in upper case, or raise ValueError saying what is wrong with it."""
    vin = normalize_code(value)
    if len(vin) != VIN_LENGTH:
        raise ValueError(f"a VIN has {VIN_LENGTH} characters")
    if not _VIN_PATTERN.match(vin):
        raise ValueError("a VIN uses only digits and capital letters other than I, O and Q")
    if vin[CHECK_DIGIT_POSITION] != check_digit(vin):
        raise ValueError("the VIN check digit (position 9) does not match (ISO 3779, GB 16735)")
    return vin
