"""The scorecard file: a new version loads from JSON, and a malformed one is refused saying
what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pricing.decision import decide
from pricing.policy import DEFAULT_POLICY
from pricing.scorecard import score_applicant
from pricing.scorecard_file import (
    ScorecardError,
    default_scorecard,
    load_scorecard,
    parse_scorecard,
)
from tests.pricing.applicants import BUILT_IN_FILE, CARD_FILE, CLEAN, salaried


def test_a_new_scorecard_version_can_be_loaded_from_json(tmp_path: Path) -> None:
    data = json.loads(BUILT_IN_FILE.read_text(encoding="utf-8"))
    data["version"] = "german-credit-v3"
    data["base_points"] += 20
    path = tmp_path / "v3.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    card = load_scorecard(path)
    assert card.version == "german-credit-v3"
    before = score_applicant(default_scorecard(), salaried(), CLEAN)
    after = score_applicant(card, salaried(), CLEAN)
    assert after.score == before.score + 20 and after.pd < before.pd
    decision = decide(salaried(), CLEAN, DEFAULT_POLICY, card)
    assert decision.scorecard_version == "german-credit-v3"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["characteristics"][0].update(attribute="shoe_size"), "unknown attribute"),
        (lambda d: d["characteristics"][0]["bins"].pop(2), "without gaps"),
        (lambda d: d.pop("version"), "version"),
        (lambda d: d["characteristics"].append(d["characteristics"][0]), "only once"),
        (lambda d: d["characteristics"][3]["bins"][0].update(values=["castle"]), "unknown housing"),
        (lambda d: d["characteristics"][0]["bins"][0].update(values=["x"]), "age is numeric"),
        (lambda d: d.update(pd_model={"intercept": 1, "slope": -0.1}), "slope must be positive"),
        (lambda d: d.update(pd_model={"intercept": 1, "slope": 0.1, "horizon_months": 24}), "12"),
    ],
)
def test_a_malformed_scorecard_is_refused_saying_what_is_wrong(mutate, message) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(CARD_FILE.read_text(encoding="utf-8"))
    mutate(data)
    with pytest.raises(ScorecardError, match=message):
        parse_scorecard(data)
