"""Application scorecards: a versioned points table, loaded from JSON, that turns an applicant
into a score, a probability of default (PD) and the reasons that cost them the most points.

Scaling is the classic one: ``score = base_score + pdo/ln 2 × ln(odds / base_odds)`` with odds
good:bad, so ``odds = base_odds × 2^((score − base_score) / pdo)`` and ``PD = 1 / (1 + odds)``.
A trained card also carries a calibrated ``pd_model`` (``ln odds = intercept + slope × score``
for the 12-month horizon), which then gives the PD instead of the scaling. The file format is
described in ``pricing/README.md``; ``scorecards/german-credit-v2.json`` is the built-in card.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from functools import cache
from importlib import resources
from pathlib import Path

from pricing.applicant import (
    ATTRIBUTE_NAMES,
    CATEGORIES,
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
DEFAULT_SCORECARD_FILE = "german-credit-v2.json"
_CONTEXT = Context(prec=34)


class ScorecardError(ValueError):
    """A scorecard file that cannot be used; the message says where it is wrong."""


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


def load_scorecard(path: str | Path) -> Scorecard:
    """Return the scorecard in the JSON file at ``path``, validated."""
    return parse_scorecard(json.loads(Path(path).read_text(encoding="utf-8"), parse_float=Decimal))


@cache
def default_scorecard() -> Scorecard:
    """Return the built-in scorecard shipped in ``pricing/scorecards/`` (trained on the German
    credit data; see ``docs/risk/``)."""
    text = (
        resources.files("pricing")
        .joinpath("scorecards", DEFAULT_SCORECARD_FILE)
        .read_text(encoding="utf-8")
    )
    return parse_scorecard(json.loads(text, parse_float=Decimal))


def parse_scorecard(data: object) -> Scorecard:
    """Return the scorecard described by parsed JSON, or raise ``ScorecardError`` saying what is
    wrong (unknown attribute, gaps between numeric bins, missing fields …)."""
    card = _mapping(data, "scorecard")
    scaling = _mapping(card.get("scaling"), "scaling")
    parsed = Scorecard(
        version=_string(card.get("version"), "version"),
        scaling=Scaling(
            base_score=_integer(scaling.get("base_score"), "scaling.base_score"),
            base_odds=_decimal(scaling.get("base_odds"), "scaling.base_odds"),
            pdo=_integer(scaling.get("points_to_double_odds"), "scaling.points_to_double_odds"),
        ),
        base_points=_integer(card.get("base_points", 0), "base_points"),
        characteristics=tuple(
            _characteristic(item, index)
            for index, item in enumerate(_sequence(card.get("characteristics"), "characteristics"))
        ),
        pd_model=None if card.get("pd_model") is None else _pd_model(card.get("pd_model")),
        score_distribution=_score_distribution(card.get("development")),
    )
    if parsed.scaling.base_odds <= 0 or parsed.scaling.pdo <= 0:
        raise ScorecardError("scaling.base_odds and points_to_double_odds must be positive")
    if parsed.pd_model is not None and parsed.pd_model.slope <= 0:
        raise ScorecardError("pd_model.slope must be positive: a higher score is a lower PD")
    attributes = [characteristic.attribute for characteristic in parsed.characteristics]
    if len(set(attributes)) != len(attributes):
        raise ScorecardError("each attribute may be scored only once")
    return parsed


def _characteristic(data: object, index: int) -> Characteristic:
    where = f"characteristics[{index}]"
    item = _mapping(data, where)
    attribute = _string(item.get("attribute"), f"{where}.attribute")
    if attribute not in ATTRIBUTE_NAMES:
        raise ScorecardError(f"{where}: unknown attribute {attribute!r}")
    bins = tuple(
        _bin(entry, f"{where}.bins[{position}]")
        for position, entry in enumerate(_sequence(item.get("bins"), f"{where}.bins"))
    )
    if not bins:
        raise ScorecardError(f"{where}: needs at least one bin")
    if sum(b.missing for b in bins) > 1:
        raise ScorecardError(f"{where}: at most one missing bin")
    ranges = [b for b in bins if not b.missing and b.values is None]
    listed = [b for b in bins if b.values is not None]
    allowed = CATEGORIES.get(attribute)
    if allowed is None and listed:
        raise ScorecardError(f"{where}: {attribute} is numeric; bins need lower/upper")
    if allowed is not None and ranges:
        raise ScorecardError(f"{where}: {attribute} is a category; bins need values")
    for score_bin in listed:
        unknown = sorted((score_bin.values or frozenset()) - (allowed or frozenset()))
        if unknown:
            raise ScorecardError(f"{where}: unknown {attribute} values {unknown}")
    if ranges:
        # Numeric bins must tile the whole line so that every value scores exactly once.
        if ranges[0].lower is not None or ranges[-1].upper is not None:
            raise ScorecardError(f"{where}: numeric bins must start and end unbounded")
        for before, after in zip(ranges, ranges[1:], strict=False):
            if before.upper is None or before.upper != after.lower:
                raise ScorecardError(f"{where}: numeric bins must be ordered without gaps")
    return Characteristic(attribute, _reason(item.get("reason"), f"{where}.reason"), bins)


def _bin(data: object, where: str) -> ScoreBin:
    item = _mapping(data, where)
    values = item.get("values")
    return ScoreBin(
        points=_integer(item.get("points"), f"{where}.points"),
        lower=None if item.get("lower") is None else _decimal(item.get("lower"), f"{where}.lower"),
        upper=None if item.get("upper") is None else _decimal(item.get("upper"), f"{where}.upper"),
        values=None
        if values is None
        else frozenset(_string(v, f"{where}.values") for v in _sequence(values, where)),
        missing=item.get("missing") is True,
        reason=None if item.get("reason") is None else _reason(item.get("reason"), where),
    )


def _pd_model(data: object) -> PdModel:
    item = _mapping(data, "pd_model")
    horizon = _integer(item.get("horizon_months", 12), "pd_model.horizon_months")
    if horizon != 12:
        raise ScorecardError("pd_model.horizon_months must be 12: grades are 12-month PD bands")
    return PdModel(
        intercept=_decimal(item.get("intercept"), "pd_model.intercept"),
        slope=_decimal(item.get("slope"), "pd_model.slope"),
        horizon_months=horizon,
    )


def _score_distribution(data: object) -> tuple[ScoreBand, ...]:
    if data is None:
        return ()
    bands = _mapping(data, "development").get("score_distribution")
    if bands is None:
        return ()
    parsed = []
    for index, entry in enumerate(_sequence(bands, "development.score_distribution")):
        where = f"development.score_distribution[{index}]"
        item = _mapping(entry, where)
        parsed.append(
            ScoreBand(
                lower=None if item.get("lower") is None else _integer(item["lower"], where),
                upper=None if item.get("upper") is None else _integer(item["upper"], where),
                share=_decimal(item.get("share"), f"{where}.share"),
            )
        )
    return tuple(parsed)


def _reason(data: object, where: str) -> Reason:
    item = _mapping(data, where)
    return Reason(
        code=_string(item.get("code"), f"{where}.code"),
        en=_string(item.get("en"), f"{where}.en"),
        zh=_string(item.get("zh"), f"{where}.zh"),
    )


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ScorecardError(f"{where} must be an object")
    return value


def _sequence(value: object, where: str) -> Sequence[object]:
    if not isinstance(value, list):
        raise ScorecardError(f"{where} must be a list")
    return value


def _string(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ScorecardError(f"{where} must be a non-empty string")
    return value


def _integer(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ScorecardError(f"{where} must be a whole number")
    return value


def _decimal(value: object, where: str) -> Decimal:
    if isinstance(value, float):
        # json.loads without parse_float=Decimal: the shortest repr is exactly what was written.
        value = repr(value)
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ScorecardError(f"{where} must be a number")
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise ScorecardError(f"{where} must be a number") from None
    if not number.is_finite():
        raise ScorecardError(f"{where} must be finite")
    return number
