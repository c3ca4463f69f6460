"""All marketplace routers, included by the app."""

from __future__ import annotations

from fastapi import APIRouter

from marketplace.advisors.router import admin_router as advisor_admin_router
from marketplace.advisors.router import buyer_router as advisor_buyer_router
from marketplace.advisors.router import router as advisor_router
from marketplace.applications.router import router as buyer_router
from marketplace.calculator.router import router as calculator_router
from marketplace.collateral.router import buyer_router as collateral_buyer_router
from marketplace.collateral.router import lender_router as collateral_lender_router
from marketplace.collections.router import admin_router as collections_admin_router
from marketplace.collections.router import advisor_router as collections_advisor_router
from marketplace.collections.router import buyer_router as collections_buyer_router
from marketplace.collections.router import lender_router as collections_lender_router
from marketplace.monitoring.router import admin_router as risk_admin_router
from marketplace.monitoring.router import lender_router as risk_lender_router
from marketplace.pages.router import router as pages_router
from marketplace.preapprovals.router import buyer_router as preapproval_buyer_router
from marketplace.products.router import router as products_router
from marketplace.scorecards.router import admin_router as scorecard_admin_router
from marketplace.servicing.router import buyer_router as servicing_buyer_router
from marketplace.servicing.router import lender_router as servicing_lender_router

# Included into the app one by one (autofin.main), not through a router of routers: FastAPI
# matches an included router by walking its tree on every request, once per level. The pages
# come last because no API path overlaps theirs and the API is what is called most.
routers: tuple[APIRouter, ...] = (
    calculator_router,
    products_router,
    buyer_router,
    preapproval_buyer_router,
    advisor_buyer_router,
    advisor_router,
    advisor_admin_router,
    scorecard_admin_router,
    risk_admin_router,
    risk_lender_router,
    servicing_buyer_router,
    servicing_lender_router,
    collections_buyer_router,
    collections_lender_router,
    collections_advisor_router,
    collections_admin_router,
    collateral_lender_router,
    collateral_buyer_router,
    pages_router,
)
