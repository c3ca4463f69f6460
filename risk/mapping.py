"""The map: how a CSV's columns become scorecard attributes, the bad flag and its window.

```json
{"target": {"column": "status", "bad": ["bad", "1"]},
 "observation_months": 36,
 "attributes": {"age": {"column": "Age"},
                "employment_months": {"column": "Seniority", "scale": 12},
                "housing": {"column": "Home", "values": {"owner": "own", "other": null}},
                "ltv": {"ratio": ["Amount", "Price"]}}}
```

``scale`` multiplies a numeric column; ``values`` maps raw values to a category or a number
(``null`` and unlisted values are missing); ``ratio`` divides one column by another;
``observation_months`` is a number or ``{"column": C}``. Rows with an empty target are dropped
from training; unmapped columns are ignored. Besides the scorecard attributes a map may fill
``has_write_off`` (a hard rule, never binned). ``description`` and ``notes`` are free text the
training report shows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from pricing.applicant import ATTRIBUTE_NAMES, CATEGORIES, AttributeValue

HARD_RULE_FACTS = frozenset({"has_write_off"})


class MapError(ValueError):
    """A map that cannot be used; the message says where it is wrong."""


@dataclass(frozen=True, slots=True)
class AttributeSource:
    """Where one attribute's values come from."""

    attribute: str
    column: str | None = None
    ratio: tuple[str, str] | None = None
    scale: float | None = None
    values: Mapping[str, str | float | None] | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return self.ratio if self.ratio is not None else (self.column or "",)


@dataclass(frozen=True, slots=True)
class ColumnMap:
    target_column: str
    bad_values: frozenset[str]
    observation_months: float | None  # a constant window …
    observation_column: str | None  # … or a column holding each row's window
    attributes: tuple[AttributeSource, ...]
    description: str = ""
    notes: tuple[str, ...] = ()

    @property
    def scored_attributes(self) -> tuple[str, ...]:
        """Return the mapped attributes a scorecard may bin, in map order."""
        return tuple(a.attribute for a in self.attributes if a.attribute in ATTRIBUTE_NAMES)

    def to_json(self) -> dict[str, object]:
        """Return the map as JSON (for the report and the scorecard's provenance)."""
        window: object = (
            {"column": self.observation_column}
            if self.observation_column is not None
            else self.observation_months
        )
        attributes: dict[str, object] = {}
        for source in self.attributes:
            spec: dict[str, object] = (
                {"ratio": list(source.ratio)} if source.ratio else {"column": source.column}
            )
            if source.scale is not None:
                spec["scale"] = source.scale
            if source.values is not None:
                spec["values"] = dict(source.values)
            attributes[source.attribute] = spec
        return {
            "target": {"column": self.target_column, "bad": sorted(self.bad_values)},
            "observation_months": window,
            "attributes": attributes,
        }


@dataclass(frozen=True, slots=True)
class MappedData:
    """A CSV seen through a map, row for row in file order."""

    attributes: pd.DataFrame  # one column per mapped attribute: float (NaN = missing) or object
    bad: pd.Series  # 1.0 bad, 0.0 good, NaN when the target is empty
    window_months: pd.Series  # the window each row's bad flag covers (NaN when unknown)
    has_write_off: pd.Series  # bool

    def labelled(self) -> MappedData:
        """Return the rows a model can learn from: a target and a positive window."""
        keep = self.bad.notna() & (self.window_months > 0)
        return MappedData(
            self.attributes[keep].reset_index(drop=True),
            self.bad[keep].reset_index(drop=True),
            self.window_months[keep].reset_index(drop=True),
            self.has_write_off[keep].reset_index(drop=True),
        )

    def row_values(self, index: int) -> dict[str, AttributeValue]:
        """Return one row as the attribute values ``pricing`` scores (Decimal, str or None)."""
        return {
            name: _attribute_value(self.attributes.at[index, name])
            for name in self.attributes.columns
        }


def load_map(path: str | Path) -> ColumnMap:
    """Return the map in the JSON file at ``path``, validated."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise MapError(f"{path}: not JSON ({error})") from None
    return parse_map(data)


def parse_map(data: object) -> ColumnMap:
    """Return the map described by parsed JSON, or raise ``MapError`` saying what is wrong."""
    root = _mapping(data, "map")
    target = _mapping(root.get("target"), "target")
    bad = target.get("bad")
    if not isinstance(bad, list) or not bad:
        raise MapError("target.bad must be a non-empty list of the values that mean bad")
    window = root.get("observation_months")
    months: float | None = None
    window_column: str | None = None
    if isinstance(window, Mapping):
        window_column = _string(window.get("column"), "observation_months.column")
    elif isinstance(window, int | float) and not isinstance(window, bool) and window > 0:
        months = float(window)
    else:
        raise MapError('observation_months must be a positive number or {"column": C}')
    attributes = _mapping(root.get("attributes"), "attributes")
    if not attributes:
        raise MapError("attributes: map at least one column")
    notes = root.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        raise MapError("notes must be a list of strings")
    description = root.get("description", "")
    if not isinstance(description, str):
        raise MapError("description must be a string")
    return ColumnMap(
        target_column=_string(target.get("column"), "target.column"),
        bad_values=frozenset(str(value) for value in bad),
        observation_months=months,
        observation_column=window_column,
        attributes=tuple(_source(name, spec) for name, spec in attributes.items()),
        description=description,
        notes=tuple(notes),
    )


def _source(attribute: str, data: object) -> AttributeSource:
    where = f"attributes.{attribute}"
    if attribute not in ATTRIBUTE_NAMES | HARD_RULE_FACTS:
        raise MapError(f"{where}: unknown attribute (expected one of {sorted(ATTRIBUTE_NAMES)})")
    spec = _mapping(data, where)
    unknown = set(spec) - {"column", "ratio", "scale", "values", "note"}
    if unknown:
        raise MapError(f"{where}: unknown keys {sorted(unknown)}")
    column = spec.get("column")
    ratio = spec.get("ratio")
    if (column is None) == (ratio is None):
        raise MapError(f"{where}: give either column or ratio")
    categories = CATEGORIES.get(attribute)
    scale = spec.get("scale")
    if scale is not None and (
        isinstance(scale, bool) or not isinstance(scale, int | float) or scale <= 0
    ):
        raise MapError(f"{where}.scale must be a positive number")
    if categories is not None and (scale is not None or ratio is not None):
        raise MapError(f"{where}: {attribute} is a category; scale and ratio do not apply")
    ratio_columns: tuple[str, str] | None = None
    if ratio is not None:
        if not isinstance(ratio, list) or len(ratio) != 2:
            raise MapError(f"{where}.ratio must be [numerator column, denominator column]")
        ratio_columns = (_string(ratio[0], f"{where}.ratio"), _string(ratio[1], f"{where}.ratio"))
    values = spec.get("values")
    mapped_values: dict[str, str | float | None] | None = None
    if values is not None:
        mapped_values = {}
        for raw, value in _mapping(values, f"{where}.values").items():
            mapped_values[str(raw)] = _mapped_value(value, categories, f"{where}.values.{raw}")
    return AttributeSource(
        attribute=attribute,
        column=None if column is None else _string(column, f"{where}.column"),
        ratio=ratio_columns,
        scale=None if scale is None else float(scale),
        values=mapped_values,
    )


def _mapped_value(
    value: object, categories: frozenset[str] | None, where: str
) -> str | float | None:
    if value is None:
        return None
    if categories is not None:
        if not isinstance(value, str) or value not in categories:
            raise MapError(f"{where}: must be one of {sorted(categories)} or null")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MapError(f"{where}: must be a number or null")
    return float(value)


def read_csv(path: str | Path) -> pd.DataFrame:
    """Return the CSV as text cells (empty cells stay empty strings: missing, not zero)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def apply_map(frame: pd.DataFrame, column_map: ColumnMap) -> MappedData:
    """Return the frame's attributes, bad flag and windows as the map says, row for row."""
    needed = {column_map.target_column} if column_map.target_column in frame.columns else set()
    for source in column_map.attributes:
        needed.update(source.columns)
    if column_map.observation_column is not None:
        needed.add(column_map.observation_column)
    missing = sorted(column for column in needed if column not in frame.columns)
    if missing:
        raise MapError(f"the CSV has no column(s) {missing}")
    attributes = pd.DataFrame(index=frame.index)
    write_off = pd.Series(False, index=frame.index)
    for source in column_map.attributes:
        values = _attribute_column(frame, source)
        if source.attribute in HARD_RULE_FACTS:
            write_off = values.fillna(0).astype(float) > 0
        else:
            attributes[source.attribute] = values
    if column_map.target_column in frame.columns:
        raw_target = frame[column_map.target_column].astype(str).str.strip()
        bad = raw_target.isin(column_map.bad_values).astype(float).where(raw_target != "")
    else:  # scoring a file of new applications: no outcome yet
        bad = pd.Series(np.nan, index=frame.index)
    if column_map.observation_column is not None:
        window = pd.to_numeric(frame[column_map.observation_column], errors="coerce")
    else:
        window = pd.Series(column_map.observation_months, index=frame.index, dtype=float)
    return MappedData(attributes, bad.astype(float), window.astype(float), write_off)


def _attribute_column(frame: pd.DataFrame, source: AttributeSource) -> pd.Series:
    if source.ratio is not None:
        numerator = pd.to_numeric(frame[source.ratio[0]], errors="coerce")
        denominator = pd.to_numeric(frame[source.ratio[1]], errors="coerce")
        values = (numerator / denominator.where(denominator != 0)).astype(float)
        return values * source.scale if source.scale is not None else values
    raw = frame[source.column or ""].astype(str).str.strip()
    categorical = source.attribute in CATEGORIES
    if source.values is not None:
        lookup = source.values
        mapped = raw.map(lambda cell: lookup.get(cell))
        if categorical:
            return mapped.astype(object).where(mapped.notna(), None)
        numbers = pd.to_numeric(mapped, errors="coerce").astype(float)
        return numbers * source.scale if source.scale is not None else numbers
    if categorical:
        allowed = CATEGORIES[source.attribute]
        return raw.map(lambda cell: cell if cell in allowed else None).astype(object)
    numbers = pd.to_numeric(raw, errors="coerce").astype(float)
    return numbers * source.scale if source.scale is not None else numbers


def _attribute_value(cell: object) -> AttributeValue:
    if cell is None:
        return None
    if isinstance(cell, str):
        return cell
    if isinstance(cell, float | np.floating):
        if np.isnan(cell):
            return None
        number = float(cell)
        return int(number) if number.is_integer() else Decimal(repr(number))
    raise TypeError(f"unexpected cell {cell!r}")


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise MapError(f"{where} must be an object")
    return value


def _string(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise MapError(f"{where} must be a non-empty string")
    return value


__all__: Sequence[str] = [
    "AttributeSource",
    "ColumnMap",
    "MapError",
    "MappedData",
    "apply_map",
    "load_map",
    "parse_map",
    "read_csv",
]
