"""Population stability: how far this month's application scores have drifted from the scores
of the sample a card was developed on.

``PSI = Σ (actual share − expected share) × ln(actual share ÷ expected share)`` over the card's
development score bands. Read the usual way: below 0.10 stable, 0.10–0.25 a shift to watch,
above 0.25 the population has changed and the card needs review. An empty band counts as a
share of 0.0001 so that the logarithm stays finite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Context, Decimal, localcontext

from pricing.scorecard import ScoreBand

EMPTY_SHARE = Decimal("0.0001")
PSI_WATCH = Decimal("0.10")
PSI_SHIFT = Decimal("0.25")


def band_counts(bands: Sequence[ScoreBand], scores: Iterable[int]) -> list[int]:
    """Return how many ``scores`` fall in each band (``[lower, upper)``, open at the ends)."""
    counts = [0] * len(bands)
    for score in scores:
        for index, band in enumerate(bands):
            if (band.lower is None or score >= band.lower) and (
                band.upper is None or score < band.upper
            ):
                counts[index] += 1
                break
    return counts


def population_stability_index(bands: Sequence[ScoreBand], scores: Sequence[int]) -> Decimal | None:
    """Return the PSI of ``scores`` against the development ``bands`` (4 decimals), or None
    when there are no bands or no scores to compare."""
    if not bands or not scores:
        return None
    counts = band_counts(bands, scores)
    total = sum(counts)
    expected_total = sum((band.share for band in bands), Decimal(0))
    psi = Decimal(0)
    with localcontext(Context(prec=34)) as context:
        for band, count in zip(bands, counts, strict=True):
            expected = max(band.share / expected_total, EMPTY_SHARE)
            actual = max(Decimal(count) / total, EMPTY_SHARE)
            psi += (actual - expected) * context.ln(actual / expected)
    return psi.quantize(Decimal("0.0001"))


def stability_verdict(psi: Decimal | None) -> str:
    """Return ``stable``, ``watch`` or ``shifted`` for a PSI (``no_data`` without one)."""
    if psi is None:
        return "no_data"
    if psi < PSI_WATCH:
        return "stable"
    return "watch" if psi < PSI_SHIFT else "shifted"
