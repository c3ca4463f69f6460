"""Scorecards for tests, derived from the built-in card."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

from pricing.scorecard_file import DEFAULT_SCORECARD_FILE


def builtin_card() -> dict[str, Any]:
    text = resources.files("pricing").joinpath("scorecards", DEFAULT_SCORECARD_FILE).read_text()
    card: dict[str, Any] = json.loads(text)
    return card


def card(version: str, *, base_points_shift: int = 0, structure: bool = True) -> dict[str, Any]:
    """The built-in card under another version, its base points shifted (negative = harsher),
    optionally without the deal-structure characteristics."""
    derived = copy.deepcopy(builtin_card())
    derived["version"] = version
    derived["base_points"] += base_points_shift
    if not structure:
        derived["characteristics"] = [
            item
            for item in derived["characteristics"]
            if item["attribute"] not in ("ltv", "term_months", "down_payment_ratio", "vehicle_type")
        ]
    return derived
