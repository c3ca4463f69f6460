"""The car deal's structure in the grade: a pre-approval assumes the worst structure the policy
allows; a real car is graded again on its own LTV, term and vehicle type, never worse than the
pre-approval.

A card that bins no structure attribute grades the same with or without a car, so for it both
functions change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pricing.applicant import UNKNOWN_STRUCTURE, Applicant, BureauFacts, LoanStructure
from pricing.grades import grade_for_pd, grade_rank
from pricing.policy import RiskPolicy
from pricing.products import VehicleType
from pricing.scorecard import Scorecard, score_applicant

STRUCTURE_ATTRIBUTES = frozenset({"ltv", "term_months", "down_payment_ratio", "vehicle_type"})


def uses_structure(card: Scorecard) -> bool:
    """Return whether ``card`` bins any attribute of the deal's structure."""
    return any(item.attribute in STRUCTURE_ATTRIBUTES for item in card.characteristics)


def worst_structures(policy: RiskPolicy) -> tuple[LoanStructure, ...]:
    """Return the riskiest structures the policy allows, one per vehicle type: the highest LTV
    and the longest term (used cars have their own, shorter, longest term)."""
    down_payment = 1 - policy.max_ltv
    return (
        LoanStructure(policy.max_ltv, policy.max_term_months, down_payment, VehicleType.NEW),
        LoanStructure(
            policy.max_ltv, policy.used_car_max_term_months, down_payment, VehicleType.USED
        ),
    )


def assumed_structure(
    card: Scorecard, applicant: Applicant, bureau: BureauFacts, policy: RiskPolicy
) -> LoanStructure:
    """Return the structure a pre-approval is graded on: of the worst structures the policy
    allows, the one that scores lowest on ``card`` (unknown when the card bins none)."""
    if not uses_structure(card):
        return UNKNOWN_STRUCTURE
    return min(
        worst_structures(policy),
        key=lambda structure: score_applicant(card, applicant, bureau, structure).score,
    )


@dataclass(frozen=True, slots=True)
class StructureGrade:
    """The grade a real car earns; ``grade`` is never worse than the pre-approval's."""

    grade: str
    pd: Decimal
    score: int
    preapproval_grade: str
    capped: bool  # True when the car alone scored worse and the pre-approval's grade holds


def grade_for_structure(
    card: Scorecard,
    applicant: Applicant,
    bureau: BureauFacts,
    structure: LoanStructure,
    policy: RiskPolicy,
    preapproval_grade: str,
) -> StructureGrade:
    """Return the sub-grade and PD of the applicant with this car's structure, capped at the
    pre-approval's grade (which assumed the worst structure, so it is a ceiling)."""
    result = score_applicant(card, applicant, bureau, structure)
    earned = grade_for_pd(result.pd, policy.grade_pd_ceilings)
    if earned is None or grade_rank(earned) > grade_rank(preapproval_grade):
        return StructureGrade(preapproval_grade, result.pd, result.score, preapproval_grade, True)
    return StructureGrade(earned, result.pd, result.score, preapproval_grade, False)
