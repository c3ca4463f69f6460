"""Pricing: pure functions of values — loan maths, scorecard → PD → grade, credit line, fair
price, matching and ranking. No I/O, no clock, no floats; money is int fen, rates are Decimal.

The modules are described in ``pricing/README.md``; the names below are what other packages use.
"""

from pricing.applicant import (
    Applicant,
    BureauFacts,
    EmploymentType,
    Housing,
    LoanStructure,
    MaritalStatus,
)
from pricing.credit_line import CreditLine, credit_line
from pricing.decision import Decision, decide
from pricing.errors import PricingInputError
from pricing.fair_price import assess_rate, benchmark_ladder, benchmark_rate
from pricing.grades import SUB_GRADES, grade_for_pd
from pricing.loan_math import LoanQuote, RepaymentMethod, ScheduleRow, quote_loan
from pricing.matching import evaluate_product, evaluate_product_for_deal, match_offers
from pricing.offers import MatchResult, Offer, Rejection
from pricing.payoff import PayoffQuote, due_dates, payoff_quote
from pricing.policy import DEFAULT_POLICY, RiskPolicy
from pricing.products import Deal, ProductTerms, Subsidy, VehicleType
from pricing.reasons import Reason
from pricing.scorecard import Scorecard, score_values
from pricing.scorecard_file import default_scorecard, load_scorecard, parse_scorecard
from pricing.stability import population_stability_index, stability_verdict
from pricing.structure import (
    StructureGrade,
    assumed_structure,
    grade_for_structure,
    uses_structure,
)

__all__ = [
    "DEFAULT_POLICY",
    "SUB_GRADES",
    "Applicant",
    "BureauFacts",
    "CreditLine",
    "Deal",
    "EmploymentType",
    "Decision",
    "Housing",
    "LoanQuote",
    "LoanStructure",
    "MaritalStatus",
    "MatchResult",
    "Offer",
    "PayoffQuote",
    "PricingInputError",
    "ProductTerms",
    "Reason",
    "Rejection",
    "RepaymentMethod",
    "RiskPolicy",
    "ScheduleRow",
    "Scorecard",
    "StructureGrade",
    "Subsidy",
    "VehicleType",
    "assess_rate",
    "assumed_structure",
    "benchmark_ladder",
    "benchmark_rate",
    "credit_line",
    "decide",
    "default_scorecard",
    "due_dates",
    "evaluate_product",
    "evaluate_product_for_deal",
    "grade_for_pd",
    "grade_for_structure",
    "load_scorecard",
    "match_offers",
    "parse_scorecard",
    "payoff_quote",
    "population_stability_index",
    "quote_loan",
    "score_values",
    "stability_verdict",
    "uses_structure",
]
