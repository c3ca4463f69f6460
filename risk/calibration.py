"""From a score to a calibrated 12-month PD.

Two exact conversions, both stated in every training report:

* **constant hazard** — a borrower who survives each month with the same probability defaults
  within ``T`` months with ``PD_T = 1 − (1 − PD_12)^(T/12)``, so ``PD_12 = 1 − (1 − PD_T)^(12/T)``;
* **prior correction** — a sample whose bads were oversampled (bad rate ``π_s``) says the same
  about ranking as the population (bad rate ``π_p``) but overstates the odds of default by
  ``(π_s/(1−π_s)) / (π_p/(1−π_p))``: ``odds_pop = odds_sample × (π_p/(1−π_p)) / (π_s/(1−π_s))``.

The PD model is logistic in the score on the population's 12-month scale,
``ln(good:bad odds) = intercept + slope × score``. It is fitted by maximum likelihood on the
sample's labels *through* both conversions (12 months → each row's window → the sample's prior),
so rows observed over different windows and an oversampled bad rate are both accounted for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

Floats = NDArray[np.float64]
_EPSILON = 1e-12


def pd_12_from_window(pd_window: ArrayLike, window_months: ArrayLike) -> Floats:
    """Return the 12-month PD equivalent to ``pd_window`` over ``window_months``."""
    pd_window, months = _floats(pd_window), _floats(window_months)
    return 1 - (1 - pd_window) ** (12 / months)


def pd_window_from_12(pd_12: ArrayLike, window_months: ArrayLike) -> Floats:
    """Return the PD over ``window_months`` equivalent to a 12-month ``pd_12`` (constant hazard)."""
    pd_12, months = _floats(pd_12), _floats(window_months)
    return 1 - (1 - pd_12) ** (months / 12)


def prior_correct(pd: ArrayLike, sample_bad_rate: float, population_bad_rate: float) -> Floats:
    """Return the PD a model fitted where bads made up ``sample_bad_rate`` implies where they make
    up ``population_bad_rate``: the odds of default scaled by the ratio of the two priors' odds."""
    for rate in (sample_bad_rate, population_bad_rate):
        if not 0 < rate < 1:
            raise ValueError("bad rates must be strictly between 0 and 1")
    pd = _floats(pd)
    ratio = (population_bad_rate / (1 - population_bad_rate)) / (
        sample_bad_rate / (1 - sample_bad_rate)
    )
    odds = pd / (1 - pd) * ratio
    return odds / (1 + odds)


@dataclass(frozen=True, slots=True)
class PdFit:
    """``ln(good:bad odds over 12 months) = intercept + slope × score`` for the population."""

    intercept: float
    slope: float

    def pd_12(self, scores: ArrayLike) -> Floats:
        """Return the population's 12-month PD at each score."""
        return 1 / (1 + np.exp(self.intercept + self.slope * _floats(scores)))

    def sample_pd(
        self,
        scores: ArrayLike,
        window_months: ArrayLike,
        sample_bad_rate: float,
        population_bad_rate: float | None,
    ) -> Floats:
        """Return the bad rate the model expects in the development sample: the 12-month PD
        carried over each row's window, then back to the sample's (oversampled) prior."""
        pd_window = pd_window_from_12(self.pd_12(scores), window_months)
        if population_bad_rate is None:
            return pd_window
        return prior_correct(pd_window, population_bad_rate, sample_bad_rate)


def fit_pd_model(
    scores: ArrayLike,
    bad: ArrayLike,
    window_months: ArrayLike,
    population_bad_rate: float | None = None,
) -> PdFit:
    """Return the PD model that best explains the sample's labels (maximum likelihood through
    the window conversion and, when given, the correction from the sample's bad rate to the
    population's)."""
    score_values, labels, months = _floats(scores), _floats(bad), _floats(window_months)
    sample_bad_rate = float(labels.mean())
    centre, spread = float(score_values.mean()), float(score_values.std()) or 1.0
    standard = (score_values - centre) / spread

    def negative_log_likelihood(params: Floats) -> float:
        fit = PdFit(float(params[0]), float(params[1]))
        expected = np.clip(
            fit.sample_pd(standard, months, sample_bad_rate, population_bad_rate),
            _EPSILON,
            1 - _EPSILON,
        )
        return -float(np.sum(labels * np.log(expected) + (1 - labels) * np.log(1 - expected)))

    start_rate = population_bad_rate if population_bad_rate is not None else sample_bad_rate
    start = np.array([np.log((1 - start_rate) / start_rate), 1.0])
    result = minimize(negative_log_likelihood, start, method="Nelder-Mead",
                      options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 4000})  # fmt: skip
    intercept, slope = (float(value) for value in result.x)
    # Undo the standardisation: a + b·(s − centre)/spread.
    return PdFit(intercept - slope * centre / spread, slope / spread)


def _floats(values: ArrayLike) -> Floats:
    return np.asarray(values, dtype=np.float64)
