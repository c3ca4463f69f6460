"""Risk routes: the latest monitoring report (admin) and the policy's benchmark ladder (admin,
and lenders pricing a rate card)."""

from __future__ import annotations

from fastapi import APIRouter

from marketplace.monitoring import service
from marketplace.monitoring.schemas import LadderRung, MonitorReportPublic, PolicyPublic
from marketplace.policy import PolicyDep
from pricing import RiskPolicy, benchmark_ladder
from pricing.products import VehicleType
from shared.db import SessionDep
from shared.errors import NotFound, error_responses
from shared.identity.principal import AdminPrincipal, LenderPrincipal

admin_router = APIRouter(prefix="/v1/admin/risk", tags=["admin"])
lender_router = APIRouter(prefix="/v1/lender", tags=["lender"])


class NoMonitoringReport(NotFound):
    code = "no_monitoring_report"
    message = "No monitoring report yet: run `autofin risk monitor` or `autofin jobs run`."


@admin_router.get("/monitor", responses=error_responses(NoMonitoringReport))
async def latest_monitoring(admin: AdminPrincipal, session: SessionDep) -> MonitorReportPublic:
    """The latest monitoring figures: realised against predicted default by grade on loans a
    year on book, the PSI of this month's application scores, the challenger beside the
    champion."""
    report = await service.latest(session)
    if report is None:
        raise NoMonitoringReport()
    return report


@admin_router.get("/policy")
async def risk_policy(admin: AdminPrincipal, policy: PolicyDep) -> PolicyPublic:
    """The risk policy in force and its benchmark ladder (A1…G5, new and used cars)."""
    return policy_public(policy)


@lender_router.get("/policy")
async def lender_policy(lender: LenderPrincipal, policy: PolicyDep) -> PolicyPublic:
    """The policy a rate card is held to: the fair band of each sub-grade (its benchmark and the
    most a fair rate may be, for new and used cars) and the legal cap, the same figures the
    admin sees."""
    return policy_public(policy)


def policy_public(policy: RiskPolicy) -> PolicyPublic:
    return PolicyPublic(
        cost_of_funds=policy.cost_of_funds,
        lgd_new=policy.lgd(VehicleType.NEW),
        lgd_used=policy.lgd(VehicleType.USED),
        servicing_cost=policy.servicing_cost,
        margin=policy.margin,
        fairness_band=policy.fairness_band,
        legal_cap_apr=policy.legal_cap_apr,
        max_ltv=policy.max_ltv,
        max_term_months=policy.max_term_months,
        used_car_max_term_months=policy.used_car_max_term_months,
        reference_term_months=policy.reference_term_months,
        validity_days=policy.validity_days,
        min_loan=policy.min_loan,
        benchmark="cost of funds + (−ln(1 − PD)) × LGD(vehicle type) + servicing + margin, PD the "
        "midpoint of the grade's 12-month band; fair = at most the band above it and within "
        "the legal cap (fees included)",
        ladder=[
            LadderRung(
                grade=rung.grade,
                pd_lower=rung.pd_lower,
                pd_upper=rung.pd_upper,
                benchmark_rate_new=rung.benchmark_rate,
                max_fair_rate_new=rung.max_fair_rate,
                benchmark_rate_used=rung.used_benchmark_rate,
                max_fair_rate_used=rung.used_max_fair_rate,
            )
            for rung in benchmark_ladder(policy)
        ],
    )
