"""An application as the pricing package sees it: the applicant's declaration, the bureau's
facts, and the loan structure a grade assumed."""

from __future__ import annotations

from typing import Any

from marketplace.applications.bureau import facts_from_json
from marketplace.applications.models import Application, BureauReport
from pricing import Applicant, BureauFacts, LoanStructure


def applicant_of(application: Application) -> Applicant:
    """The declaration the scorecard scores (the loan's structure is not part of it)."""
    return Applicant(
        age=application.age,
        monthly_income=application.monthly_income,
        employment_months=application.employment_months,
        housing=application.housing,  # type: ignore[arg-type]  # Applicant validates it
        existing_monthly_debt=application.existing_monthly_debt,
        marital_status=application.marital_status,  # type: ignore[arg-type]  # validated there
        employment_type=application.employment_type,  # type: ignore[arg-type]
        monthly_expenses=application.monthly_expenses,
        assets=application.assets,
        dependents=application.dependents,
    )


def facts_of(report: BureauReport) -> BureauFacts:
    return facts_from_json(report.facts)


def structure_to_json(structure: LoanStructure) -> dict[str, Any] | None:
    """The structure as stored (None when nothing about it was assumed)."""
    if structure == LoanStructure():
        return None
    return {
        "ltv": None if structure.ltv is None else str(structure.ltv),
        "term_months": structure.term_months,
        "down_payment_ratio": None
        if structure.down_payment_ratio is None
        else str(structure.down_payment_ratio),
        "vehicle_type": None if structure.vehicle_type is None else structure.vehicle_type.value,
    }
