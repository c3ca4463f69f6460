"""Throughput of the pricing package beside numpy-financial doing the same work.

Run ``python bench/pricing.py`` (about 30 s). It prints, for our exact Decimal maths and for
numpy-financial's float maths in the same run:

* quotes per second: a full schedule plus the APR (ours) vs a payment plus a rate solve (npf);
* APR solves per second on the same cash flows: our Decimal IRR vs ``npf.irr``;
* matching one applicant against 10,000 products (ours: eligibility, quote, fairness, ranking)
  vs numpy-financial pricing the same 10,000 loans (vectorised pmt, then a rate per loan).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/http.py would shadow the
# standard library's http (imported by httpx): take the folder off, put the project on.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import numpy_financial as npf  # noqa: E402

from pricing.fair_price import benchmark_rate  # noqa: E402
from pricing.grades import SUB_GRADES  # noqa: E402
from pricing.irr import solve_monthly_irr  # noqa: E402
from pricing.loan_math import RepaymentMethod, quote_loan  # noqa: E402
from pricing.matching import match_offers  # noqa: E402
from pricing.policy import DEFAULT_POLICY  # noqa: E402
from pricing.products import ProductTerms, VehicleType  # noqa: E402
from shared.money import yuan  # noqa: E402

SECONDS_PER_CASE = 3.0
PRODUCTS = 10_000
rng = random.Random(20250101)


def per_second(work: Callable[[int], object], cases: int) -> float:
    """Return how many cases per second ``work`` handles, running for about SECONDS_PER_CASE."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS_PER_CASE:
        work(done % cases)
        done += 1
    return done / (time.perf_counter() - start)


def report(what: str, ours: float, theirs: float, npf_work: str) -> None:
    print(f"{what:<38} ours {ours:>10,.0f}   numpy-financial {theirs:>10,.0f}  ({npf_work})")


def loan_terms(count: int) -> list[tuple[int, Decimal, int, RepaymentMethod, int]]:
    terms = []
    for _ in range(count):
        principal = yuan(rng.randrange(20_000, 500_000, 100))
        rate = Decimal(rng.randrange(0, 2400)) / 10_000
        term = rng.choice((12, 24, 36, 48, 60, 84))
        fee = rng.choice((0, 0, yuan(500), yuan(2_000)))
        terms.append((principal, rate, term, rng.choice(list(RepaymentMethod)), fee))
    return terms


def products(count: int) -> list[ProductTerms]:
    catalogue = []
    for index in range(count):
        spread = Decimal(rng.randrange(-150, 400)) / 10_000  # most within the fair band
        catalogue.append(
            ProductTerms(
                product_id=f"product-{index}",
                version=1,
                lender_id=f"lender-{index % 50}",
                lender_name=f"Lender {index % 50:02d}",
                name=f"Car loan {index}",
                method=rng.choice(list(RepaymentMethod)),
                terms_months=tuple(sorted(rng.sample([12, 24, 36, 48, 60, 72, 84], 3))),
                min_amount=yuan(rng.choice((10_000, 20_000, 50_000, 200_000))),
                max_amount=yuan(rng.choice((100_000, 300_000, 500_000))),
                max_ltv=Decimal("0.80"),
                min_down_payment_ratio=Decimal("0.20"),
                upfront_fee=rng.choice((0, yuan(500), yuan(1_500))),
                rate_card={
                    grade: max(Decimal(0), benchmark_rate(grade, DEFAULT_POLICY) + spread)
                    for grade in SUB_GRADES
                    if rng.random() < 0.9
                },
                vehicle_types=frozenset(VehicleType),
                commission_rate=Decimal(rng.randrange(0, 300)) / 10_000,
            )
        )
    return catalogue


def main() -> None:
    cases = loan_terms(500)
    float_cases = [(p / 100, float(r), n, f / 100) for p, r, n, _, f in cases]

    ours = per_second(lambda i: quote_loan(*cases[i]), len(cases))

    def npf_quote(i: int) -> None:
        principal, rate, term, fee = float_cases[i]
        payment = npf.pmt(rate / 12, term, -principal)
        npf.rate(term, -payment, principal - fee, 0)

    theirs = per_second(npf_quote, len(cases))
    report("quotes/s (schedule + APR)", ours, theirs, "pmt + rate")

    quotes = [quote_loan(*terms) for terms in cases]
    flows = [(q.amount_received, [row.payment for row in q.schedule]) for q in quotes]
    float_flows = [np.array([got / 100] + [-p / 100 for p in pays]) for got, pays in flows]
    ours = per_second(lambda i: solve_monthly_irr(*flows[i]), len(flows))
    theirs = per_second(lambda i: npf.irr(float_flows[i]), len(flows))
    report("APR solves/s (IRR of the cash flows)", ours, theirs, "irr")

    catalogue = products(PRODUCTS)
    start = time.perf_counter()
    result = match_offers(catalogue, "C2", yuan(150_000), DEFAULT_POLICY)
    ours_seconds = time.perf_counter() - start

    amounts = np.array([min(150_000.0, p.max_amount / 100) for p in catalogue])
    rates = np.array([float(p.rate_card.get("C2", Decimal(0))) for p in catalogue])
    months = np.array([min(p.terms_months, key=lambda t: (abs(t - 36), t)) for p in catalogue])
    fees = np.array([p.upfront_fee / 100 for p in catalogue])
    start = time.perf_counter()
    payments = npf.pmt(rates / 12, months, -amounts)
    for payment, amount, term, fee in zip(payments, amounts, months, fees, strict=True):
        npf.rate(term, -payment, amount - fee, 0)
    theirs_seconds = time.perf_counter() - start
    print(
        f"{'match 1 applicant × 10,000 products':<38} ours {ours_seconds * 1000:>8,.0f} ms"
        f"   numpy-financial {theirs_seconds * 1000:>8,.0f} ms"
        "  (vectorised pmt + rate per loan; no eligibility, schedule or ranking)"
    )
    print(f"  → {len(result.offers):,} offers, {len(result.rejections):,} rejections")


if __name__ == "__main__":
    main()
