"""Matching a graded applicant to products: one product at a time (``evaluate_product``), so
the dealer portal can say exactly which rule failed, or all of them (``match_offers``), the
offers ranked by what the buyer pays (``pricing.ranking``). Which of them a pre-approval keeps
is ``pricing.shortlist``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from pricing.errors import PricingInputError
from pricing.fair_price import REFERENCE_VEHICLE_TYPE, assess_rate
from pricing.grades import grade_rank
from pricing.loan_math import LoanQuote, quote_loan
from pricing.offers import MatchResult, Offer, Rejection
from pricing.policy import RiskPolicy
from pricing.products import Deal, ProductTerms, VehicleType
from pricing.ranking import rank_offers
from shared.money import format_cny, format_rate


def reference_term(terms_months: Iterable[int], target_months: int) -> int:
    """Return the offered term nearest ``target_months``; on a tie, the shorter one."""
    return min(terms_months, key=lambda term: (abs(term - target_months), term))


def evaluate_product(
    product: ProductTerms,
    grade: str,
    credit_limit: int,
    policy: RiskPolicy,
    deal: Deal | None = None,
    *,
    quote: Callable[..., LoanQuote] = quote_loan,
) -> Offer | Rejection:
    """Return the offer ``product`` makes to an applicant of ``grade`` with ``credit_limit`` for
    ``deal`` (or for the reference deal when there is no car yet), or the first rule it fails.
    ``quote`` is ``quote_loan`` or a memo of it (products often share rate, term and fee)."""
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
        quoted = quote(amount, annual_rate, term, product.method, product.upfront_fee)
    except PricingInputError as error:
        return reject(f"unquotable_{error.field}", error.message, "down_payment")
    if quoted.apr > policy.legal_cap_apr:
        return reject(
            "apr_above_legal_cap",
            f"with its fee the APR {format_rate(quoted.apr)} exceeds the legal cap "
            f"{format_rate(policy.legal_cap_apr)}",
            None,
            apr_rate=quoted.apr,
            legal_cap_rate=policy.legal_cap_apr,
        )
    why.append(
        f"rate {format_rate(annual_rate)} is fair for grade {grade} (benchmark "
        f"{format_rate(fairness.benchmark_rate)}, ceiling {format_rate(fairness.max_fair_rate)}); "
        f"APR with fees {format_rate(quoted.apr)} is within the legal cap"
    )
    return _offer(product, grade, quoted, fairness.benchmark_rate, subsidised, tuple(why))


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
