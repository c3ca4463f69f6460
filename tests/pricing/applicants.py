"""An applicant, a clean bureau file and the card files the scorecard tests score them on."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pricing.applicant import Applicant, BureauFacts, Housing
from shared.money import yuan

CARD_FILE = Path(__file__).parent / "cards" / "expert-v1.json"
BUILT_IN_FILE = Path(__file__).parents[2] / "pricing" / "scorecards" / "german-credit-v2.json"


def salaried(income_yuan: int = 10_000, housing: Housing = Housing.RENT) -> Applicant:
    return Applicant(32, yuan(income_yuan), 40, housing, yuan(1_500))


CLEAN = BureauFacts(inquiries_6m=1, revolving_utilisation=Decimal("0.35"), credit_history_months=48)
