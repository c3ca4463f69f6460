"""The resident identity card number (公民身份号码, GB 11643-1999), checked by python-stdnum;
here only what pricing needs from it: the birth date and the age."""

from __future__ import annotations

from datetime import date

from stdnum.cn import ric

from shared.identifiers import normalize_national_id

__all__ = ["age_on", "birth_date", "normalize_national_id", "with_check_character"]


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
    return first17 + str(ric.calc_check_digit(first17 + "0"))
