"""Matching a graded applicant to products, and ranking the offers by what the buyer pays.

One product is evaluated at a time (``evaluate_product``) so the dealer portal can say exactly
which rule failed; ``match_offers`` evaluates them all and ranks the offers by total cost of credit,
then monthly payment, then lender name, then product id. Nothing the platform earns
(``commission_rate``) or any other field that does not change the buyer's cost is read here.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from pricing.errors import PricingInputError
from pricing.fair_price import REFERENCE_VEHICLE_TYPE, assess_rate
from pricing.grades import grade_rank
from pricing.loan_math import LoanQuote, RepaymentMethod, quote_loan
from pricing.policy import RiskPolicy
from pricing.products import Deal, ProductTerms, VehicleType
from shared.money import format_cny, format_rate


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one product cannot be offered: a stable ``code``, a message for dealer staff, and the
    deal ``field`` to change (None when nothing the buyer controls would help). ``params`` are
    the figures in the message, by name (money as ``*_fen`` ints, rates as Decimals), so the
    message can be written again in another language."""

    code: str
    message: str
    field: str | None
    product_id: str = ""
    params: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True, slots=True)
class Offer:
    """One product quoted for one buyer and deal, with the reasons it is shown and its rank."""

    product_id: str
    product_version: int
    lender_id: str
    lender_name: str
    product_name: str
    grade: str
    method: RepaymentMethod
    amount: int
    term_months: int
    annual_rate: Decimal
    apr: Decimal
    effective_annual_rate: Decimal
    upfront_fee: int
    monthly_payment: int
    total_interest: int
    total_cost: int
    total_repayment: int
    benchmark_rate: Decimal
    subsidised: bool
    platform_guarantee: bool
    why_eligible: tuple[str, ...]
    rank: int = 0
    rank_reason: str = ""


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Ranked offers (cheapest first) and every product that was not offered, with why."""

    offers: tuple[Offer, ...]
    rejections: tuple[Rejection, ...]


def reference_term(terms_months: Iterable[int], target_months: int) -> int:
    """Return the offered term nearest ``target_months``; on a tie, the shorter one."""
    return min(terms_months, key=lambda term: (abs(term - target_months), term))


def evaluate_product(
    product: ProductTerms,
    grade: str,
    credit_limit: int,
    policy: RiskPolicy,
    deal: Deal | None = None,
) -> Offer | Rejection:
    """Return the offer ``product`` makes to an applicant of ``grade`` with ``credit_limit`` for
    ``deal`` (or for the reference deal when there is no car yet), or the first rule it fails."""
    grade_rank(grade)

    def reject(code: str, message: str, field: str | None, **params: object) -> Rejection:
        return Rejection(code, message, field, product.product_id, tuple(params.items()))

    card_rate = product.rate_card.get(grade)
    if card_rate is None:
        return reject(
            "grade_not_accepted",
            f"{product.name} does not lend to grade {grade}",
            None,
            product=product.name,
            grade=grade,
        )
    why = [f"lends to grade {grade} at {format_rate(card_rate)}"]
    if deal is None:
        if product.min_amount > credit_limit:
            return reject(
                "credit_limit_below_product_minimum",
                f"the credit limit {format_cny(credit_limit)} is below the product minimum "
                f"{format_cny(product.min_amount)}",
                None,
                credit_limit_fen=credit_limit,
                min_amount_fen=product.min_amount,
            )
        amount = min(credit_limit, product.max_amount)
        term = reference_term(product.terms_months, policy.reference_term_months)
        why.append(
            f"quoted for {format_cny(amount)}, the smaller of the credit limit and the product "
            f"maximum, over {term} months, the offered term nearest "
            f"{policy.reference_term_months}"
        )
    else:
        rejection = _deal_rejection(product, credit_limit, policy, deal)
        if rejection is not None:
            return rejection
        amount, term = deal.loan_amount, deal.term_months
        why.append(
            f"{format_cny(amount)} over {term} months is within the product's limits, the LTV "
            f"and down-payment rules and the credit limit"
        )
    if product.capacity_remaining is not None and product.capacity_remaining < amount:
        return reject(
            "lender_capacity_exhausted",
            f"{product.lender_name} cannot fund another {format_cny(amount)} at the moment",
            None,
            lender=product.lender_name,
            amount_fen=amount,
        )
    subsidy_rate = _subsidised_rate(product, deal)
    annual_rate = card_rate if subsidy_rate is None else min(subsidy_rate, card_rate)
    subsidised = annual_rate < card_rate  # a subsidy that is not cheaper is simply not used
    if subsidised and deal is not None:
        why.append(
            f"manufacturer subsidy for {deal.brand}: {format_rate(annual_rate)} instead of "
            f"{format_rate(card_rate)}"
        )
    fairness = assess_rate(annual_rate, grade, policy, vehicle_type=_priced_vehicle(product, deal))
    if not fairness.fair:
        return reject(
            fairness.code or "rate_not_fair",
            f"{format_rate(annual_rate)} is above the fair ceiling "
            f"{format_rate(fairness.max_fair_rate)} for grade {grade}",
            None,
            annual_rate=annual_rate,
            max_fair_rate=fairness.max_fair_rate,
            grade=grade,
        )
    try:
        quote = quote_loan(amount, annual_rate, term, product.method, product.upfront_fee)
    except PricingInputError as error:
        return reject(f"unquotable_{error.field}", error.message, "down_payment")
    if quote.apr > policy.legal_cap_apr:
        return reject(
            "apr_above_legal_cap",
            f"with its fee the APR {format_rate(quote.apr)} exceeds the legal cap "
            f"{format_rate(policy.legal_cap_apr)}",
            None,
            apr_rate=quote.apr,
            legal_cap_rate=policy.legal_cap_apr,
        )
    why.append(
        f"rate {format_rate(annual_rate)} is fair for grade {grade} (benchmark "
        f"{format_rate(fairness.benchmark_rate)}, ceiling {format_rate(fairness.max_fair_rate)}); "
        f"APR with fees {format_rate(quote.apr)} is within the legal cap"
    )
    return _offer(product, grade, quote, fairness.benchmark_rate, subsidised, tuple(why))


def evaluate_product_for_deal(
    product: ProductTerms,
    grade: str,
    preapproval_grade: str,
    credit_limit: int,
    policy: RiskPolicy,
    deal: Deal,
) -> Offer | Rejection:
    """Return the offer ``product`` makes for a real car to a buyer whose car earns ``grade``
    and whose pre-approval (graded on the worst structure) holds ``preapproval_grade``: priced
    at the car's grade when that is no dearer, else exactly as the pre-approval promised. So a
    better structure can only lower the rate, and the locked offer stays a ceiling."""
    promised = evaluate_product(product, preapproval_grade, credit_limit, policy, deal)
    if grade == preapproval_grade:
        return promised
    earned = evaluate_product(product, grade, credit_limit, policy, deal)
    if isinstance(earned, Offer) and (
        not isinstance(promised, Offer) or earned.annual_rate <= promised.annual_rate
    ):
        return earned
    return promised


def match_offers(
    products: Iterable[ProductTerms],
    grade: str,
    credit_limit: int,
    policy: RiskPolicy,
    deal: Deal | None = None,
) -> MatchResult:
    """Return every product's offer for this applicant and deal, ranked cheapest first, and a
    rejection for each product that cannot be offered."""
    grade_rank(grade)
    offers: list[Offer] = []
    rejections: list[Rejection] = []
    for product in products:
        outcome = evaluate_product(product, grade, credit_limit, policy, deal)
        if isinstance(outcome, Offer):
            offers.append(outcome)
        else:
            rejections.append(outcome)
    return MatchResult(rank_offers(offers), tuple(rejections))


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


def ranking_key(offer: Offer) -> tuple[int, int, str, str]:
    """Return what offers are ordered by: the buyer's total cost of credit, then monthly
    payment, then lender name and product id so that equal offers keep a stable order."""
    return (offer.total_cost, offer.monthly_payment, offer.lender_name, offer.product_id)


def rank_offers(offers: Sequence[Offer]) -> tuple[Offer, ...]:
    """Return the offers in ranking order, each with its rank and the reason for it."""
    ordered = sorted(offers, key=ranking_key)
    ranked: list[Offer] = []
    for position, offer in enumerate(ordered, start=1):
        above = ordered[position - 2] if position > 1 else None
        reason = _rank_reason(offer, position, len(ordered), above)
        ranked.append(replace(offer, rank=position, rank_reason=reason))
    return tuple(ranked)


def _deal_rejection(
    product: ProductTerms, credit_limit: int, policy: RiskPolicy, deal: Deal
) -> Rejection | None:
    """Return the first deal rule the product fails, or None."""
    amount = deal.loan_amount

    def reject(code: str, message: str, field: str | None, **params: object) -> Rejection:
        return Rejection(code, message, field, product.product_id, tuple(params.items()))

    if (
        product.subsidy is not None
        and deal.brand is not None
        and not product.subsidy.covers(deal.brand)
    ):
        # A manufacturer's subsidised product (厂商贴息) finances that maker's cars only.
        return reject(
            "brand_not_covered",
            f"{product.name} finances only cars of {', '.join(sorted(product.subsidy.brands))}",
            None,
            product=product.name,
            brands=", ".join(sorted(product.subsidy.brands)),
            brand_ids=tuple(sorted(product.subsidy.brands)),
        )
    if deal.vehicle_type not in product.vehicle_types:
        return reject(
            "vehicle_type_not_accepted",
            f"{product.name} does not finance {deal.vehicle_type.value} cars",
            "vehicle_type",
            product=product.name,
            vehicle_type=deal.vehicle_type.value,
        )
    if deal.term_months not in product.terms_months:
        offered = ", ".join(str(term) for term in sorted(product.terms_months))
        return reject(
            "term_not_offered",
            f"{product.name} offers terms of {offered} months",
            "term_months",
            product=product.name,
            terms=offered,
        )
    if deal.vehicle_type is VehicleType.USED and deal.term_months > policy.used_car_max_term_months:
        return reject(
            "used_car_term_too_long",
            f"used cars may be financed over at most {policy.used_car_max_term_months} months",
            "term_months",
            max_term=policy.used_car_max_term_months,
        )
    if deal.term_months > policy.max_term_months:
        return reject(
            "term_above_policy_maximum",
            f"loans may run for at most {policy.max_term_months} months",
            "term_months",
            max_term=policy.max_term_months,
        )
    if amount > policy.max_ltv * deal.car_price:
        return reject(
            "ltv_above_policy_maximum",
            f"the platform finances at most {format_rate(policy.max_ltv, 0)} of a car's price",
            "down_payment",
            max_ltv=format_rate(policy.max_ltv, 0),
        )
    if amount < product.min_amount:
        return reject(
            "amount_below_product_minimum",
            f"the loan {format_cny(amount)} is below the product minimum "
            f"{format_cny(product.min_amount)}",
            "down_payment",
            amount_fen=amount,
            min_amount_fen=product.min_amount,
        )
    if amount > product.max_amount:
        return reject(
            "amount_above_product_maximum",
            f"the loan {format_cny(amount)} is above the product maximum "
            f"{format_cny(product.max_amount)}",
            "down_payment",
            amount_fen=amount,
            max_amount_fen=product.max_amount,
        )
    if amount > credit_limit:
        return reject(
            "amount_above_credit_limit",
            f"the loan {format_cny(amount)} is above the credit limit {format_cny(credit_limit)}",
            "down_payment",
            amount_fen=amount,
            credit_limit_fen=credit_limit,
        )
    if amount > product.max_ltv * deal.car_price:
        return reject(
            "ltv_too_high",
            f"the loan is more than {format_rate(product.max_ltv, 0)} of the car price",
            "down_payment",
            max_ltv=format_rate(product.max_ltv, 0),
        )
    if deal.down_payment < product.min_down_payment_ratio * deal.car_price:
        return reject(
            "down_payment_too_low",
            f"the down payment must be at least {format_rate(product.min_down_payment_ratio, 0)} "
            "of the car price",
            "down_payment",
            min_ratio=format_rate(product.min_down_payment_ratio, 0),
        )
    return None


def _priced_vehicle(product: ProductTerms, deal: Deal | None) -> VehicleType:
    """Return the vehicle type a rate is judged for: the deal's car, or with no car yet the
    reference (a new car) unless the product finances only used cars."""
    if deal is not None:
        return deal.vehicle_type
    if REFERENCE_VEHICLE_TYPE in product.vehicle_types or not product.vehicle_types:
        return REFERENCE_VEHICLE_TYPE
    return VehicleType.USED


def _subsidised_rate(product: ProductTerms, deal: Deal | None) -> Decimal | None:
    """Return the manufacturer's subsidised rate when the deal's brand qualifies, else None."""
    if deal is None or product.subsidy is None or not product.subsidy.covers(deal.brand):
        return None
    return product.subsidy.annual_rate


def _offer(
    product: ProductTerms,
    grade: str,
    quote: LoanQuote,
    benchmark: Decimal,
    subsidised: bool,
    why: tuple[str, ...],
) -> Offer:
    return Offer(
        product_id=product.product_id,
        product_version=product.version,
        lender_id=product.lender_id,
        lender_name=product.lender_name,
        product_name=product.name,
        grade=grade,
        method=quote.method,
        amount=quote.principal,
        term_months=quote.term_months,
        annual_rate=quote.annual_rate,
        apr=quote.apr,
        effective_annual_rate=quote.effective_annual_rate,
        upfront_fee=quote.upfront_fee,
        monthly_payment=quote.monthly_payment,
        total_interest=quote.total_interest,
        total_cost=quote.total_cost,
        total_repayment=quote.total_repayment,
        benchmark_rate=benchmark,
        subsidised=subsidised,
        platform_guarantee=product.platform_guarantee,
        why_eligible=why,
    )


def _rank_reason(offer: Offer, position: int, count: int, above: Offer | None) -> str:
    prefix = f"ranked {position} of {count}"
    cost = format_cny(offer.total_cost)
    if above is None:
        return f"{prefix}: lowest total cost of credit ({cost})"
    if offer.total_cost > above.total_cost:
        extra = format_cny(offer.total_cost - above.total_cost)
        return f"{prefix}: total cost of credit {cost}, {extra} more than #{position - 1}"
    if offer.monthly_payment > above.monthly_payment:
        extra = format_cny(offer.monthly_payment - above.monthly_payment)
        return f"{prefix}: same total cost as #{position - 1}, monthly payment {extra} higher"
    return f"{prefix}: same total cost and monthly payment as #{position - 1}; ordered by lender"
