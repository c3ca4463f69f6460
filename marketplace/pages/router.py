"""The buyer's web pages (and the landing page): static files that use the buyer API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shared.web.pages import page

HERE = Path(__file__).parent
router = APIRouter(include_in_schema=False)


@router.get("/")
async def landing() -> FileResponse:
    return page(HERE / "index.html")


@router.get("/buyer")
async def buyer_page() -> FileResponse:
    return page(HERE / "buyer.html")


@router.get("/buyer.js")
async def buyer_script() -> FileResponse:
    return FileResponse(HERE / "buyer.js", media_type="text/javascript")


@router.get("/contract.js")
async def contract_script() -> FileResponse:
    return FileResponse(HERE / "contract.js", media_type="text/javascript")


@router.get("/lender/decisions")
async def lender_decisions_page() -> FileResponse:
    return page(HERE / "lender_decisions.html")


@router.get("/lender_decisions.js")
async def lender_decisions_script() -> FileResponse:
    return FileResponse(HERE / "lender_decisions.js", media_type="text/javascript")
