"""Which offers a pre-approval keeps: the cheapest few overall and for each vehicle type, found
without quoting every product of a large catalogue exactly."""

from __future__ import annotations

from bisect import insort
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache

from pricing.grades import grade_rank
from pricing.loan_math import RepaymentMethod, quote_loan
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
    return _shortlist(ranked, {(p.product_id, p.version): _groups(p) for p in products}, keep)


def _shortlist(
    ranked: Sequence[Offer], groups_of: Mapping[tuple[str, int], tuple[str, ...]], keep: int
) -> tuple[Offer, ...]:
    if keep < 1 or len(ranked) <= keep:
        return tuple(ranked)
    kept: set[int] = set()
    counts: dict[str, int] = {}
    for index, offer in enumerate(ranked):
        for group in groups_of[(offer.product_id, offer.product_version)]:
            if counts.get(group, 0) < keep:
                counts[group] = counts.get(group, 0) + 1
                kept.add(index)
    return rank_offers([ranked[index] for index in sorted(kept)])


def best_offers(
    products: Sequence[ProductTerms], grade: str, credit_limit: int, policy: RiskPolicy, keep: int
) -> tuple[Offer, ...]:
    """``shortlist(match_offers(products, grade, credit_limit, policy).offers, products, keep)``
    without quoting every product exactly (see ``Catalogue.best_offers``, which keeps what it
    prepares for the next applicant)."""
    return Catalogue(products).best_offers(grade, credit_limit, policy, keep)


# Per product with a rate for the grade: its minimum and maximum amount, the factor that turns an
# amount into the estimated interest at its reference term, its upfront fee, the part of its
# slack that does not depend on the cost, and its index in the catalogue.
_Estimator = tuple[int, int, float, int, int, int]


class Catalogue:
    """The products an applicant can be matched to, prepared once for ``best_offers``: each
    product's shortlist groups, and per grade and reference term what estimating its cost
    takes. The marketplace keeps one per catalogue (it changes when a lender edits a product),
    so an application does not redo this work for each of thousands of products."""

    def __init__(self, products: Sequence[ProductTerms]) -> None:
        self.products = tuple(products)
        self._groups = tuple(_groups(product) for product in self.products)
        self._groups_of = {
            (product.product_id, product.version): groups
            for product, groups in zip(self.products, self._groups, strict=True)
        }
        self._estimators: dict[tuple[str, int], tuple[list[_Estimator], Counter[str]]] = {}

    def best_offers(
        self, grade: str, credit_limit: int, policy: RiskPolicy, keep: int
    ) -> tuple[Offer, ...]:
        """What ``shortlist`` keeps of every product's offer, without quoting every product
        exactly (a schedule and an APR solve each: a catalogue of thousands took a second).
        Products are taken cheapest first by an estimate of their total cost of credit (floats,
        no schedule), quoted exactly one by one, and a product is skipped once every group it
        could enter already holds ``keep`` offers cheaper than its estimate less ``_slack`` (the
        most the estimate can be off): it could not have been kept. Estimates only rise along
        the way and a full group's dearest kept cost only falls, so once every group that a
        product still to come could enter is closed that way, no later product can be kept."""
        if keep < 1:
            return match_offers(self.products, grade, credit_limit, policy).offers
        grade_rank(grade)
        estimators, members = self._estimators_for(grade, policy.reference_term_months)
        pending = Counter(members)
        estimated: list[tuple[int, int]] = []
        for min_amount, max_amount, factor, fee, fixed_slack, index in estimators:
            if min_amount > credit_limit:  # evaluate_product refuses it before any figure
                pending.subtract(self._groups[index])
                continue
            amount = credit_limit if credit_limit < max_amount else max_amount
            cost = round(amount * factor) + fee
            estimated.append((cost - fixed_slack - _cost_slack(cost), index))
        estimated.sort()
        live = {group for group, count in pending.items() if count > 0}
        closed: set[str] = set()
        cheapest: dict[str, list[int]] = {}  # per group, the exact costs of its offers, ascending
        offers: list[Offer] = []
        quote = lru_cache(maxsize=None)(quote_loan)  # products often share rate, term and fee
        for lowest, index in estimated:
            groups = self._groups[index]
            could_be_kept = False
            for group in groups:
                if group in closed:
                    continue
                costs = cheapest.get(group)
                if costs is not None and len(costs) >= keep and costs[keep - 1] < lowest:
                    closed.add(group)
                else:
                    could_be_kept = True
            if could_be_kept:
                product = self.products[index]
                outcome = evaluate_product(product, grade, credit_limit, policy, quote=quote)
                if isinstance(outcome, Offer):
                    offers.append(outcome)
                    for group in groups:
                        insort(cheapest.setdefault(group, []), outcome.total_cost)
            for group in groups:
                pending[group] -= 1
                if pending[group] == 0:
                    live.discard(group)
            if live <= closed:
                break
        return _shortlist(rank_offers(offers), self._groups_of, keep)

    def _estimators_for(
        self, grade: str, reference_months: int
    ) -> tuple[list[_Estimator], Counter[str]]:
        """The products with a rate for ``grade``, ready to estimate, and how many of them
        each group holds (built on first use for each grade and reference term)."""
        key = (grade, reference_months)
        if key not in self._estimators:
            estimators: list[_Estimator] = []
            members: Counter[str] = Counter()
            for index, product in enumerate(self.products):
                rate = product.rate_card.get(grade)
                if rate is None:
                    continue  # evaluate_product refuses it before any figure
                term = reference_term(product.terms_months, reference_months)
                factor = _interest_factor(rate, term, product.method)
                estimators.append(
                    (
                        product.min_amount,
                        product.max_amount,
                        factor,
                        product.upfront_fee,
                        _term_slack(term),
                        index,
                    )
                )
                members.update(self._groups[index])
            self._estimators[key] = (estimators, members)
        return self._estimators[key]


def _groups(product: ProductTerms) -> tuple[str, ...]:
    """The shortlist's groups a product's offer competes in: every offer, and each vehicle type
    it finances for any brand."""
    if product.subsidy is not None:
        return ("all",)
    return ("all", *sorted(vehicle.value for vehicle in product.vehicle_types))


def _estimated_interest(amount: int, annual_rate: Decimal, term: int, method: str) -> int:
    """The total interest of a loan in fen, in floating point: within ``_slack`` of the exact
    schedule's (``loan_math``, whole fen per row)."""
    return round(amount * _interest_factor(annual_rate, term, method))


def _interest_factor(annual_rate: Decimal, term: int, method: str) -> float:
    """A loan's total interest per fen lent, in floating point."""
    monthly = float(annual_rate) / 12
    if monthly == 0:
        return 0.0
    if method == RepaymentMethod.EQUAL_PRINCIPAL:
        return monthly * (term + 1) / 2
    return monthly * term / (1 - (1 + monthly) ** -term) - 1


def _slack(cost: int, term: int) -> int:
    """How far an estimate may be from the exact total cost: a fen or two of rounding per
    instalment, carried through the balance, with a wide margin (a larger slack only quotes
    a few more products)."""
    return _term_slack(term) + _cost_slack(cost)


def _term_slack(term: int) -> int:
    return 10 * term + 100


def _cost_slack(cost: int) -> int:
    return cost // 1000
