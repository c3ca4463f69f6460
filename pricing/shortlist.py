"""Which offers a pre-approval keeps: the cheapest few overall and for each vehicle type, found
without quoting every product of a large catalogue exactly."""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Sequence
from decimal import Decimal

from pricing.grades import grade_rank
from pricing.loan_math import RepaymentMethod
from pricing.matching import evaluate_product, match_offers, reference_term
from pricing.offers import Offer
from pricing.policy import RiskPolicy
from pricing.products import ProductTerms
from pricing.ranking import rank_offers


def shortlist(
    ranked: Sequence[Offer], products: Iterable[ProductTerms], keep: int
) -> tuple[Offer, ...]:
    """Return the offers an approval keeps out of ``ranked`` (ranked cheapest first), ranked
    again among themselves: the ``keep`` cheapest, and for each vehicle type the ``keep``
    cheapest of the products that finance that type for any brand (no manufacturer subsidy).

    The buyer's order is untouched (a kept offer is never dearer than a dropped one it
    competes with), and a car of any type and brand still finds ``keep`` offers to be quoted
    on, so a cheap new-car-only or one-brand product at the top cannot crowd a used car out.
    At most ``3 × keep`` offers whatever the catalogue holds; ``keep`` < 1 keeps every offer."""
    if keep < 1 or len(ranked) <= keep:
        return tuple(ranked)
    terms = {(p.product_id, p.version): p for p in products}
    kept: set[int] = set()
    counts: dict[str, int] = {}
    for index, offer in enumerate(ranked):
        for group in _groups(terms[(offer.product_id, offer.product_version)]):
            if counts.get(group, 0) < keep:
                counts[group] = counts.get(group, 0) + 1
                kept.add(index)
    return rank_offers([ranked[index] for index in sorted(kept)])


def best_offers(
    products: Sequence[ProductTerms], grade: str, credit_limit: int, policy: RiskPolicy, keep: int
) -> tuple[Offer, ...]:
    """``shortlist(match_offers(products, grade, credit_limit, policy).offers, products, keep)``
    without quoting every product exactly (a schedule and an APR solve each: a catalogue of
    thousands took a second). Products are taken cheapest first by an estimate of their total
    cost of credit (floats, no schedule), quoted exactly one by one, and a product is skipped
    once every group it could enter already holds ``keep`` offers cheaper than its estimate
    less ``_slack`` (the most the estimate can be off): it could not have been kept."""
    if keep < 1:
        return match_offers(products, grade, credit_limit, policy).offers
    grade_rank(grade)
    estimated: list[tuple[int, int, ProductTerms]] = []
    for index, product in enumerate(products):
        rate = product.rate_card.get(grade)
        if rate is None or product.min_amount > credit_limit:
            continue  # evaluate_product refuses these before any figure
        amount = min(credit_limit, product.max_amount)
        term = reference_term(product.terms_months, policy.reference_term_months)
        cost = _estimated_interest(amount, rate, term, product.method) + product.upfront_fee
        estimated.append((cost - _slack(cost, term), index, product))
    estimated.sort(key=lambda row: (row[0], row[1]))
    cheapest: dict[str, list[int]] = {}  # per group, the exact costs of its offers, ascending
    offers: list[Offer] = []
    for lowest, _, product in estimated:
        groups = _groups(product)
        if all(len(cheapest.get(g, ())) >= keep and cheapest[g][keep - 1] < lowest for g in groups):
            continue
        outcome = evaluate_product(product, grade, credit_limit, policy)
        if isinstance(outcome, Offer):
            offers.append(outcome)
            for group in groups:
                insort(cheapest.setdefault(group, []), outcome.total_cost)
    return shortlist(rank_offers(offers), products, keep)


def _groups(product: ProductTerms) -> tuple[str, ...]:
    """The shortlist's groups a product's offer competes in: every offer, and each vehicle type
    it finances for any brand."""
    if product.subsidy is not None:
        return ("all",)
    return ("all", *sorted(vehicle.value for vehicle in product.vehicle_types))


def _estimated_interest(amount: int, annual_rate: Decimal, term: int, method: str) -> int:
    """The total interest of a loan in fen, in floating point: within ``_slack`` of the exact
    schedule's (``loan_math``, whole fen per row)."""
    monthly = float(annual_rate) / 12
    if monthly == 0:
        return 0
    if method == RepaymentMethod.EQUAL_PRINCIPAL:
        return round(amount * monthly * (term + 1) / 2)
    payment = amount * monthly / (1 - (1 + monthly) ** -term)
    return round(payment * term - amount)


def _slack(cost: int, term: int) -> int:
    """How far an estimate may be from the exact total cost: a fen or two of rounding per
    instalment, carried through the balance, with a wide margin (a larger slack only quotes
    a few more products)."""
    return 10 * term + cost // 1000 + 100
