"""The dealer portal's web page, and the down payment's payment page for the buyer's phone:
static files that use the dealer API and ``/v1/pay``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shared.web.pages import page, serve_scripts

HERE = Path(__file__).parent
router = APIRouter(include_in_schema=False)


@router.get("/dealer")
async def dealer_page() -> FileResponse:
    return page(HERE / "dealer.html")


@router.get("/pay")
async def payment_page() -> FileResponse:
    return page(HERE / "pay.html", takes_cards=True)


serve_scripts(router, HERE, "dealer.js", "pay.js", "deal_documents.js", "deal_collateral.js")
