"""Application scorecards: a versioned points table that turns an applicant into a score, a
probability of default (PD) and the reasons that cost them the most points.

Scaling is the classic one: ``score = base_score + pdo/ln 2 × ln(odds / base_odds)`` with odds
good:bad, so ``odds = base_odds × 2^((score − base_score) / pdo)`` and ``PD = 1 / (1 + odds)``.
A trained card also carries a calibrated ``pd_model`` (``ln odds = intercept + slope × score``
for the 12-month horizon), which then gives the PD instead of the scaling. A card is read from
its JSON file, and checked, by ``pricing.scorecard_file``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext

from pricing.applicant import (
    UNKNOWN_STRUCTURE,
    Applicant,
    AttributeValue,
    BureauFacts,
    LoanStructure,
)
from pricing.applicant import attribute_values as applicant_attribute_values
from pricing.reasons import Reason
from shared.money import round_rate

MAX_REASONS = 4
PD_PLACES = 8
_CONTEXT = Context(prec=34)


@dataclass(frozen=True, slots=True)
class ScoreBin:
    """Points for one bin: a numeric range ``[lower, upper)``, a set of values, or missing."""

    points: int
    lower: Decimal | None = None
    upper: Decimal | None = None
    values: frozenset[str] | None = None
    missing: bool = False
    reason: Reason | None = None  # overrides the characteristic's reason for this bin

    def matches(self, value: AttributeValue) -> bool:
        """Return whether ``value`` falls in this bin."""
        if value is None or self.missing:
            return value is None and self.missing
        if self.values is not None:
            return isinstance(value, str) and value in self.values
        if isinstance(value, str):
            return False
        return (self.lower is None or value >= self.lower) and (
            self.upper is None or value < self.upper
        )


@dataclass(frozen=True, slots=True)
class Characteristic:
    """One scored attribute and its bins."""

    attribute: str
    reason: Reason
    bins: tuple[ScoreBin, ...]

    @property
    def best_points(self) -> int:
        """Return the most points any bin gives: points lost are measured from here."""
        return max(score_bin.points for score_bin in self.bins)

    def bin_for(self, value: AttributeValue) -> ScoreBin:
        """Return the bin ``value`` falls in. A missing value, or a category no bin lists, scores
        in the missing bin; a card without one scores it in its lowest-points bin (the cautious
        choice for a hand-written card; trained cards always carry a fitted missing bin)."""
        for score_bin in self.bins:
            if score_bin.matches(value):
                return score_bin
        for score_bin in self.bins:
            if score_bin.missing:
                return score_bin
        return min(self.bins, key=lambda score_bin: score_bin.points)


@dataclass(frozen=True, slots=True)
class Scaling:
    """Maps score ↔ odds ↔ PD: ``base_odds``:1 good:bad at ``base_score``, doubling every
    ``pdo`` points."""

    base_score: int
    base_odds: Decimal
    pdo: int

    def odds(self, score: int) -> Decimal:
        """Return the good:bad odds a score stands for."""
        with localcontext(_CONTEXT) as context:
            exponent = Decimal(score - self.base_score) * context.ln(Decimal(2)) / self.pdo
            return self.base_odds * context.exp(exponent)

    def pd(self, score: int) -> Decimal:
        """Return the probability of default at ``score``, rounded to 8 decimals."""
        with localcontext(_CONTEXT):
            return round_rate(1 / (1 + self.odds(score)), PD_PLACES)


@dataclass(frozen=True, slots=True)
class PdModel:
    """A calibrated PD: ``ln(good:bad odds over horizon_months) = intercept + slope × score``."""

    intercept: Decimal
    slope: Decimal
    horizon_months: int = 12

    def pd(self, score: int) -> Decimal:
        """Return the probability of default within the horizon at ``score``, 8 decimals."""
        with localcontext(_CONTEXT) as context:
            odds = context.exp(self.intercept + self.slope * score)
            return round_rate(1 / (1 + odds), PD_PLACES)


@dataclass(frozen=True, slots=True)
class ScoreBand:
    """The share of the development sample that scored in ``[lower, upper)``."""

    lower: int | None
    upper: int | None
    share: Decimal


@dataclass(frozen=True, slots=True)
class Scorecard:
    """A versioned points table; every decision records ``version``."""

    version: str
    scaling: Scaling
    base_points: int
    characteristics: tuple[Characteristic, ...]
    pd_model: PdModel | None = None
    # How the development sample scored (for stability monitoring); empty for hand-written cards.
    score_distribution: tuple[ScoreBand, ...] = ()

    def pd(self, score: int) -> Decimal:
        """Return the 12-month PD at ``score``: the calibrated model's when the card has one,
        else the scaling's."""
        if self.pd_model is not None:
            return self.pd_model.pd(score)
        return self.scaling.pd(score)


@dataclass(frozen=True, slots=True)
class AttributeScore:
    """What one attribute scored and how far below its best bin it fell."""

    attribute: str
    value: AttributeValue
    points: int
    points_lost: int
    reason: Reason
    # A value that was not given (e.g. the loan's term at pre-approval) scores in the missing
    # bin but is no reason to tell the applicant, unless that bin says why in its own reason.
    gives_reason: bool = True


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """A scored applicant."""

    score: int
    pd: Decimal
    attributes: tuple[AttributeScore, ...]
    scorecard_version: str

    def reasons(self, limit: int = MAX_REASONS) -> tuple[Reason, ...]:
        """Return up to ``limit`` reasons, the attribute that lost the most points first (ties in
        scorecard order); attributes in their best bin, or missing, give no reason."""
        losing = [item for item in self.attributes if item.points_lost > 0 and item.gives_reason]
        ranked = sorted(losing, key=lambda item: -item.points_lost)  # sort is stable
        return tuple(item.reason for item in ranked[:limit])


def score_applicant(
    scorecard: Scorecard,
    applicant: Applicant,
    bureau: BureauFacts,
    structure: LoanStructure = UNKNOWN_STRUCTURE,
) -> ScoreResult:
    """Return the applicant's score (base points plus each attribute's bin points), PD and
    per-attribute points lost; the loan's structure is missing unless given."""
    return score_values(scorecard, applicant_attribute_values(applicant, bureau, structure))


def score_values(scorecard: Scorecard, values: Mapping[str, AttributeValue]) -> ScoreResult:
    """Return the score, PD and points lost for attribute values by name (absent = missing);
    training, file scoring and the service all score through here."""
    scored = []
    for characteristic in scorecard.characteristics:
        value = values.get(characteristic.attribute)
        score_bin = characteristic.bin_for(value)
        scored.append(
            AttributeScore(
                attribute=characteristic.attribute,
                value=value,
                points=score_bin.points,
                points_lost=characteristic.best_points - score_bin.points,
                reason=score_bin.reason or characteristic.reason,
                gives_reason=not score_bin.missing or score_bin.reason is not None,
            )
        )
    score = scorecard.base_points + sum(item.points for item in scored)
    return ScoreResult(score, scorecard.pd(score), tuple(scored), scorecard.version)
