"""Identifiers in one canonical ASCII form before they are checked, compared or hashed.

A national ID typed with full-width digits (``１１０１…``), Arabic-Indic digits (``١١٠١…``), spaces
or a lower-case ``x`` is the same person as its ASCII spelling: if it were hashed as typed it
would be a different keyed hash, hence a different person to every limit and unique index.
``to_ascii`` folds compatibility forms (NFKC: full-width letters and digits) and every Unicode
decimal digit to ASCII and drops whitespace; whatever is still not ASCII is refused by the
checks that follow. The checks themselves are python-stdnum's (GB 11643 ``cn.ric``, GB 32100
``cn.uscc``) and libphonenumber's, not hand-written.

Validators never put the value in their message: messages reach responses and logs.
"""

from __future__ import annotations

import unicodedata

import phonenumbers
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError


def to_ascii(value: str) -> str:
    """``value`` with compatibility forms and all decimal digits folded to ASCII and whitespace
    removed (other non-ASCII characters are kept, for the caller's check to refuse)."""
    folded = unicodedata.normalize("NFKC", value)
    characters = []
    for character in folded:
        if character.isspace():
            continue
        if not character.isascii() and unicodedata.category(character) == "Nd":
            character = str(unicodedata.decimal(character))
        characters.append(character)
    return "".join(characters)


def normalize_national_id(value: str) -> str:
    """The resident ID number in canonical form (ASCII, upper-case X), or ValueError.

    Checks the length, the digits, the birth date, the region code and the check character.
    """
    number = to_ascii(value).upper()
    if not number.isascii():
        raise ValueError("a national ID number has 17 digits and a check digit or X")
    try:
        return str(ric.validate(number))
    except ValidationError as error:
        raise ValueError(_ric_message(error)) from None


def _ric_message(error: ValidationError) -> str:
    name = type(error).__name__
    if name == "InvalidChecksum":
        return "the national ID number's check digit does not match"
    if name == "InvalidComponent":
        return "the national ID number does not encode a valid birth date and region"
    return "a national ID number has 17 digits and a check digit or X"


def normalize_uscc(value: str) -> str:
    """The unified social credit code in canonical upper case, or ValueError."""
    code = to_ascii(value).upper()
    if not code.isascii():
        raise ValueError("a unified social credit code uses digits and letters only")
    try:
        return str(uscc.validate(code))
    except ValidationError as error:
        if type(error).__name__ == "InvalidChecksum":
            raise ValueError(
                "the unified social credit code's check character does not match"
            ) from None
        if type(error).__name__ == "InvalidLength":
            raise ValueError("a unified social credit code has 18 characters") from None
        raise ValueError(
            "a unified social credit code uses digits and letters other than I O S V Z"
        ) from None


def normalize_cn_mobile(value: str) -> str:
    """A mainland China mobile number as its 11 national digits (``13812345678``), or
    ValueError; accepts ``+86``, spaces, dashes and non-ASCII digits."""
    text = to_ascii(value).replace("-", "")
    if not text.isascii():
        raise ValueError("not a valid mainland China mobile number")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise ValueError("not a valid mainland China mobile number") from None
    mobile_types = (phonenumbers.PhoneNumberType.MOBILE,)
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in mobile_types
    ):
        raise ValueError("not a valid mainland China mobile number (11 digits starting with 1)")
    return str(number.national_number)


def mask_phone(phone: str) -> str:
    """Only the first three and the last four digits: 139****5678."""
    return phone[:3] + "****" + phone[-4:]


def normalize_code(value: str) -> str:
    """A typed code (approval code, VIN) in ASCII upper case without spaces or dashes."""
    return to_ascii(value).replace("-", "").upper()
