"""A small synthetic loan book with known risk drivers, written as the CSV a lender would hand
over (its own column names and codes), and the map that reads it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SYNTHETIC_MAP = {
    "description": "a synthetic loan book",
    "target": {"column": "status", "bad": ["bad", "1"]},
    "observation_months": 24,
    "attributes": {
        "age": {"column": "Age"},
        "employment_months": {"column": "Seniority", "scale": 12},
        "housing": {
            "column": "Home",
            "values": {"owner": "own", "rent": "rent", "parents": "family", "other": None},
        },
        "revolving_utilisation": {"column": "CardUse"},
        "ltv": {"ratio": ["Amount", "Price"]},
        "delinquencies_24m": {"column": "Records", "values": {"no": 0, "yes": 1}},
    },
}


def synthetic_book(rows: int = 2000, seed: int = 7) -> pd.DataFrame:
    """Return past loans whose bad flag depends on tenure, housing, utilisation and LTV."""
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 66, rows)
    seniority_years = rng.integers(0, 20, rows)
    home = rng.choice(["owner", "rent", "parents", "other"], rows, p=[0.45, 0.35, 0.15, 0.05])
    utilisation = rng.uniform(0, 1.1, rows).round(2)
    price = rng.integers(80, 400, rows) * 1000
    amount = (price * rng.uniform(0.3, 1.0, rows)).round(-2)
    records = rng.choice(["no", "yes"], rows, p=[0.85, 0.15])
    log_odds = (
        -1.2
        - 0.08 * seniority_years
        + np.where(home == "owner", -0.6, np.where(home == "rent", 0.4, 0.1))
        + 1.6 * utilisation
        + 1.5 * (amount / price)
        + np.where(records == "yes", 0.8, 0.0)
        - 0.01 * (age - 40)
    )
    bad = rng.random(rows) < 1 / (1 + np.exp(-log_odds))
    frame = pd.DataFrame(
        {
            "Age": age,
            "Seniority": seniority_years,
            "Home": home,
            "CardUse": utilisation.astype(str),
            "Amount": amount,
            "Price": price,
            "Records": records,
            "status": np.where(bad, "bad", "good"),
            "Unused": "x",
        }
    )
    frame.loc[frame.index % 9 == 0, "CardUse"] = ""  # no revolving line: missing
    return frame


@pytest.fixture(scope="session")
def book_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("book")
    synthetic_book().to_csv(folder / "loans.csv", index=False)
    (folder / "loans.map.json").write_text(json.dumps(SYNTHETIC_MAP), encoding="utf-8")
    return folder
