"""The resident identity card number (公民身份号码, GB 11643-1999): 18 characters, checksummed."""

from __future__ import annotations

from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"


def check_character(first17: str) -> str:
    """The 18th character GB 11643 computes from the first 17 digits."""
    return _CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalize_national_id(value: str) -> str:
    """The number in canonical form (upper-case X), or ValueError saying what is wrong.

    Never puts the number itself in the message: messages reach responses and logs.
    """
    number = value.strip().upper()
    if (
        len(number) != 18
        or not number[:17].isdigit()
        or not (number[17].isdigit() or number[17] == "X")
    ):
        raise ValueError("a national ID number has 17 digits and a check digit or X")
    if check_character(number[:17]) != number[17]:
        raise ValueError("the national ID number's check digit does not match")
    birth_date(number)
    return number


def birth_date(number: str) -> date:
    """The date of birth encoded in positions 7–14."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValueError("the national ID number does not encode a valid birth date") from None


def age_on(number: str, today: date) -> int:
    """Completed years of age on ``today`` for the holder of ``number``."""
    born = birth_date(number)
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def with_check_character(first17: str) -> str:
    """A complete, valid number from its first 17 digits (for demos and tests)."""
    return first17 + check_character(first17)
