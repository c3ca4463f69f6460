"""Products, deals and outcomes for the matching, ranking and shortlist tests."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from pricing.fair_price import benchmark_rate
from pricing.grades import SUB_GRADES
from pricing.loan_math import RepaymentMethod
from pricing.offers import Offer, Rejection
from pricing.policy import DEFAULT_POLICY
from pricing.products import Deal, ProductTerms
from shared.money import yuan

LIMIT = yuan(150_000)


def product(product_id: str = "p1", **changes: object) -> ProductTerms:
    terms = ProductTerms(
        product_id=product_id,
        version=1,
        lender_id="lender-1",
        lender_name="Bank of Autofin",
        name="New car loan",
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        terms_months=(12, 24, 36, 48, 60),
        min_amount=yuan(20_000),
        max_amount=yuan(300_000),
        max_ltv=Decimal("0.80"),
        min_down_payment_ratio=Decimal("0.20"),
        upfront_fee=0,
        rate_card={grade: benchmark_rate(grade, DEFAULT_POLICY) for grade in SUB_GRADES},
    )
    return dataclasses.replace(terms, **changes)  # type: ignore[arg-type]


def deal(**changes: object) -> Deal:
    base = Deal(car_price=yuan(150_000), down_payment=yuan(45_000), term_months=36)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def offer_of(outcome: Offer | Rejection) -> Offer:
    assert isinstance(outcome, Offer), outcome
    return outcome


def rejection_of(outcome: Offer | Rejection) -> Rejection:
    assert isinstance(outcome, Rejection), outcome
    return outcome
