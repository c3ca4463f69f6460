"""Vehicle identification numbers: ISO 3779 with the check digit in position 9 (GB 16735),
decoded with ``vininfo``: the manufacturer from the WMI (the first three characters), the model
year from position 10.

China's GB 16735 makes the North American check digit mandatory, so every VIN a Chinese dealer
types can be verified offline: 17 characters from the alphabet without I, O and Q, and the
ninth the weighted sum of the others modulo 11 (10 is written ``X``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from vininfo import Vin
from vininfo.exceptions import ValidationError

from shared.identifiers import normalize_code

VIN_LENGTH = 17


@dataclass(frozen=True, slots=True)
class DecodedVin:
    vin: str
    valid: bool  # the check digit holds
    manufacturer: str | None  # as vininfo names the WMI's maker ("BMW Brilliance"), if known
    model_year: int | None


def _parse(value: str) -> Vin:
    vin = normalize_code(value).replace("-", "")
    try:
        return Vin(vin)
    except ValidationError:
        if len(vin) != VIN_LENGTH:
            raise ValueError(f"a VIN has {VIN_LENGTH} characters") from None
        raise ValueError(
            "a VIN uses only digits and capital letters other than I, O and Q"
        ) from None


def normalize_vin(value: str) -> str:
    """Return the VIN in upper case, or raise ValueError saying what is wrong with it."""
    vin = _parse(value)
    if not vin.verify_checksum():
        raise ValueError("the VIN check digit (position 9) does not match (ISO 3779, GB 16735)")
    return str(vin.num)


def decode(value: str, *, today: date) -> DecodedVin:
    """What the VIN says about the car; ValueError when it is not 17 VIN characters at all.

    The year code repeats every 30 years; the model year is the latest one not after next year
    (a 2027 model is sold in 2026).
    """
    vin = _parse(value)
    manufacturer = vin.manufacturer
    years = [year for year in vin.years if year <= today.year + 1]
    return DecodedVin(
        vin=vin.num,
        valid=bool(vin.verify_checksum()),
        manufacturer=manufacturer if manufacturer and manufacturer != "UnsupportedBrand" else None,
        model_year=max(years) if years else None,
    )


_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def with_check_digit(vin: str) -> str:
    """``vin`` (17 VIN characters) with position 9 set to its check digit: for demo data and
    tests that need many distinct, valid VINs of one manufacturer."""
    vin = vin.upper()
    if len(vin) != VIN_LENGTH or any(c not in _VALUES for c in vin):
        raise ValueError(f"a VIN has {VIN_LENGTH} characters other than I, O and Q")
    remainder = sum(_VALUES[c] * w for c, w in zip(vin, _WEIGHTS, strict=True)) % 11
    return vin[:8] + ("X" if remainder == 10 else str(remainder)) + vin[9:]


def numbered(n: int, *, wmi: str = "LGX") -> str:
    """The ``n``-th of a run of distinct valid VINs of one manufacturer (BYD by default), for
    demo and benchmark data: a car backs one live loan, so each needs its own VIN."""
    return with_check_digit(f"{wmi}{(n // 10**6) % 10**5:05d}0P1{n % 10**6:06d}")
