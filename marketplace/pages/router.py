"""The marketplace's web pages: the landing page, the buyer's pages and the lender, advisor and
admin consoles; static files that use the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shared.web.pages import page, serve_scripts

HERE = Path(__file__).parent
router = APIRouter(include_in_schema=False)


@router.get("/")
async def landing() -> FileResponse:
    return page(HERE / "index.html")


@router.get("/buyer")
async def buyer_page() -> FileResponse:
    return page(HERE / "buyer.html", takes_cards=True)


# The consoles; /static/console.js and console.css are shared by the three.
@router.get("/lender")
async def lender_console() -> FileResponse:
    return page(HERE / "lender.html")


@router.get("/advisor")
async def advisor_console() -> FileResponse:
    return page(HERE / "advisor.html")


@router.get("/admin")
async def admin_console() -> FileResponse:
    return page(HERE / "admin.html")


# Each page's script, and the widgets mounted in them: the contract and the mandate (buyer),
# the decision and collection queues (lender console).
serve_scripts(
    router,
    HERE,
    "buyer.js",
    "lender.js",
    "advisor.js",
    "admin.js",
    "contract.js",
    "mandate.js",
    "lender_decisions.js",
    "collections.js",
    "collateral.js",
)
