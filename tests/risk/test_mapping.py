"""The map: how a lender's CSV becomes scorecard attributes."""

from __future__ import annotations

import io
import math
from decimal import Decimal

import pandas as pd
import pytest

from risk.mapping import MapError, apply_map, parse_map, read_csv

CSV = """Age,Seniority,Home,Amount,Price,Records,status,Months
30,2.5,owner,80000,100000,no,good,12
,0,parents,50000,0,yes,bad,
45,,castle,,90000,maybe,,36
"""


def mapped(spec: dict[str, object], **root: object) -> pd.DataFrame:
    column_map = parse_map(
        {
            "target": {"column": "status", "bad": ["bad"]},
            "observation_months": 24,
            "attributes": spec,
            **root,
        }  # fmt: skip
    )
    return apply_map(read_csv(io.StringIO(CSV)), column_map).attributes


def test_a_column_is_read_as_a_number_and_an_empty_cell_is_missing() -> None:
    ages = mapped({"age": {"column": "Age"}})["age"]
    assert ages[0] == 30 and math.isnan(ages[1]) and ages[2] == 45


def test_scale_multiplies_a_numeric_column() -> None:
    months = mapped({"employment_months": {"column": "Seniority", "scale": 12}})
    assert months["employment_months"].tolist()[:2] == [30.0, 0.0]
    assert math.isnan(months["employment_months"][2])


def test_values_map_raw_codes_to_categories_and_numbers_unlisted_and_null_are_missing() -> None:
    frame = mapped(
        {
            "housing": {"column": "Home", "values": {"owner": "own", "parents": None}},
            "delinquencies_24m": {"column": "Records", "values": {"no": 0, "yes": 1}},
        }
    )
    assert frame["housing"].tolist() == ["own", None, None]  # parents → null, castle unlisted
    assert frame["delinquencies_24m"].tolist()[:2] == [0.0, 1.0]
    assert math.isnan(frame["delinquencies_24m"][2])  # "maybe" is not listed


def test_ratio_divides_one_column_by_another_and_a_zero_or_empty_side_is_missing() -> None:
    ltv = mapped({"ltv": {"ratio": ["Amount", "Price"]}})["ltv"]
    assert ltv[0] == pytest.approx(0.8)
    assert math.isnan(ltv[1]) and math.isnan(ltv[2])


def test_the_target_and_the_window_rows_without_a_target_are_dropped_from_training() -> None:
    column_map = parse_map(
        {
            "target": {"column": "status", "bad": ["bad"]},
            "observation_months": {"column": "Months"},
            "attributes": {"age": {"column": "Age"}},
        }  # fmt: skip
    )
    data = apply_map(read_csv(io.StringIO(CSV)), column_map)
    assert data.bad.tolist()[:2] == [0.0, 1.0] and math.isnan(data.bad[2])
    assert data.window_months[0] == 12
    assert len(data.labelled().bad) == 1  # row 2 has no window, row 3 no target


def test_a_mapped_row_is_what_pricing_scores() -> None:
    column_map = parse_map(
        {
            "target": {"column": "status", "bad": ["bad"]},
            "observation_months": 12,
            "attributes": {
                "age": {"column": "Age"},
                "ltv": {"ratio": ["Amount", "Price"]},
                "housing": {"column": "Home", "values": {"owner": "own"}},
            },
        }  # fmt: skip
    )
    data = apply_map(read_csv(io.StringIO(CSV)), column_map)
    assert data.row_values(0) == {"age": 30, "ltv": Decimal("0.8"), "housing": "own"}
    assert data.row_values(1) == {"age": None, "ltv": None, "housing": None}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"shoe_size": {"column": "Age"}}, "unknown attribute"),
        ({"age": {"column": "Age", "ratio": ["A", "B"]}}, "either column or ratio"),
        ({"age": {"column": "Age", "scale": 0}}, "scale must be a positive number"),
        ({"housing": {"column": "Home", "values": {"owner": "castle"}}}, "must be one of"),
        ({"housing": {"column": "Home", "scale": 2}}, "is a category"),
        ({"age": {"column": "Age", "values": {"x": "old"}}}, "must be a number or null"),
        ({"age": {"column": "Age", "bins": 3}}, "unknown keys"),
    ],
)
def test_a_malformed_map_is_refused_saying_where(spec: dict[str, object], message: str) -> None:
    with pytest.raises(MapError, match=message):
        parse_map({"target": {"column": "s", "bad": ["1"]}, "observation_months": 12,
                   "attributes": spec})  # fmt: skip


def test_a_map_needs_a_window_and_the_columns_it_names() -> None:
    with pytest.raises(MapError, match="observation_months"):
        parse_map({"target": {"column": "s", "bad": ["1"]}, "attributes": {"age": {"column": "A"}}})
    column_map = parse_map(
        {
            "target": {"column": "status", "bad": ["bad"]},
            "observation_months": 12,
            "attributes": {"age": {"column": "Years"}},
        }  # fmt: skip
    )
    with pytest.raises(MapError, match="Years"):
        apply_map(read_csv(io.StringIO(CSV)), column_map)
