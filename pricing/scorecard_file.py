"""The scorecard file: a points table in JSON (the format is described in ``pricing/README.md``)
read into a ``Scorecard`` and checked, with the reason it cannot be used when it cannot; and the
built-in card, ``scorecards/german-credit-v2.json``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path

from pricing.applicant import ATTRIBUTE_NAMES, CATEGORIES
from pricing.reasons import Reason
from pricing.scorecard import (
    Characteristic,
    PdModel,
    Scaling,
    ScoreBand,
    ScoreBin,
    Scorecard,
)

DEFAULT_SCORECARD_FILE = "german-credit-v2.json"


class ScorecardError(ValueError):
    """A scorecard file that cannot be used; the message says where it is wrong."""


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
