"""What the admin sees of published scorecards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marketplace.scorecards.models import PublishedScorecard
from pricing import uses_structure
from pricing.scorecard import Scorecard
from shared.schemas import ResponseModel


class ScorecardPublic(ResponseModel):
    version: str
    role: str  # candidate | champion | challenger
    sha256: str
    description: str | None
    attributes: list[str]  # what the card bins, in file order
    uses_structure: bool  # bins the deal's LTV, term, down payment or vehicle type
    calibrated: bool  # carries a fitted 12-month PD model
    published_by: str
    published_at: datetime
    role_changed_at: datetime | None


def scorecard_public(row: PublishedScorecard, card: Scorecard) -> ScorecardPublic:
    description = row.card.get("description")
    return ScorecardPublic(
        version=row.version,
        role=row.role,
        sha256=row.sha256,
        description=description if isinstance(description, str) else None,
        attributes=[item.attribute for item in card.characteristics],
        uses_structure=uses_structure(card),
        calibrated=card.pd_model is not None,
        published_by=row.published_by,
        published_at=row.published_at,
        role_changed_at=row.role_changed_at,
    )


class ScorecardDetail(ScorecardPublic):
    card: dict[str, Any]  # the scorecard JSON exactly as published
