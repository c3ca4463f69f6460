"""Calibration maths, exact on constructed cases."""

from __future__ import annotations

import numpy as np
import pytest

from risk.calibration import (
    PdFit,
    fit_pd_model,
    pd_12_from_window,
    pd_window_from_12,
    prior_correct,
)


def test_constant_hazard_turns_a_24_month_pd_into_a_12_month_one() -> None:
    # Surviving 24 months with 81 % means surviving each year with 90 %.
    assert pd_12_from_window(0.19, 24) == pytest.approx(0.10, abs=1e-15)
    assert pd_window_from_12(0.10, 24) == pytest.approx(0.19, abs=1e-15)
    assert pd_12_from_window(0.271, 36) == pytest.approx(0.10, abs=1e-15)
    assert pd_12_from_window(0.05, 12) == pytest.approx(0.05, abs=1e-15)
    # Six months: the 12-month PD is one minus the square of six months' survival.
    assert pd_12_from_window(0.10, 6) == pytest.approx(1 - 0.9**2, abs=1e-15)


def test_the_conversions_are_inverse_for_every_window() -> None:
    pd, months = np.array([0.001, 0.05, 0.3, 0.9]), np.array([3, 12, 30, 60])
    assert pd_window_from_12(pd_12_from_window(pd, months), months) == pytest.approx(pd, abs=1e-14)


def test_prior_correction_scales_the_odds_by_the_ratio_of_the_priors_odds() -> None:
    # Sample 50 % bad, population 20 %: odds ×(0.25/1); PD 0.5 (odds 1) becomes odds 0.25 → 0.2.
    assert prior_correct(0.5, 0.5, 0.2) == pytest.approx(0.2, abs=1e-15)
    # Sample 30 %, population 5 %: odds × (5/95)/(30/70) = 0.122807…; PD 0.3 lands on 0.05.
    assert prior_correct(0.3, 0.3, 0.05) == pytest.approx(0.05, abs=1e-15)
    assert prior_correct(0.6, 0.3, 0.05) == pytest.approx(
        (1.5 * (5 / 95) / (30 / 70)) / (1 + 1.5 * (5 / 95) / (30 / 70)), abs=1e-15
    )
    assert prior_correct(prior_correct(0.42, 0.3, 0.05), 0.05, 0.3) == pytest.approx(0.42)
    with pytest.raises(ValueError, match="between 0 and 1"):
        prior_correct(0.5, 0.0, 0.05)


def test_the_fitted_pd_reproduces_each_score_groups_bad_rate_through_both_conversions() -> None:
    # Two score groups make the two-parameter model saturated: maximum likelihood must give each
    # group exactly its observed bad rate, once carried to the sample's window and prior.
    scores = np.array([500] * 400 + [600] * 600)
    bad = np.array([1] * 160 + [0] * 240 + [1] * 90 + [0] * 510)  # 40 % and 15 %
    window = np.full(1000, 24.0)
    sample_rate = bad.mean()
    fit = fit_pd_model(scores, bad, window, population_bad_rate=0.05)
    for score, observed in ((500, 0.40), (600, 0.15)):
        expected_12m = pd_12_from_window(prior_correct(observed, sample_rate, 0.05), 24)
        assert fit.pd_12(score) == pytest.approx(expected_12m, rel=1e-5)
        assert fit.sample_pd(score, 24, sample_rate, 0.05) == pytest.approx(observed, rel=1e-5)
    assert fit.slope > 0  # a higher score is a lower PD


def test_rows_watched_over_different_windows_share_one_12_month_pd() -> None:
    # Same score, same 10 % 12-month PD: 12-month loans go bad 10 %, 36-month loans 27.1 %.
    scores = np.array([550] * 2000 + [650] * 2000)
    window = np.array([12.0] * 1000 + [36.0] * 1000 + [12.0] * 1000 + [36.0] * 1000)
    bad = np.concatenate(
        [np.arange(1000) < 100, np.arange(1000) < 271, np.arange(1000) < 20, np.arange(1000) < 59]
    ).astype(float)
    fit = fit_pd_model(scores, bad, window)
    assert fit.pd_12(550) == pytest.approx(0.10, abs=2e-4)
    assert fit.pd_12(650) == pytest.approx(0.02, abs=2e-4)


def test_the_pd_model_is_logistic_in_the_score() -> None:
    fit = PdFit(intercept=-20.0, slope=0.04)
    assert fit.pd_12(500) == pytest.approx(0.5)
    assert fit.pd_12(500 + 25 * np.log(3)) == pytest.approx(0.25)
