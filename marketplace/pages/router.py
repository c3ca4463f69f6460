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


@router.get("/mandate.js")
async def mandate_script() -> FileResponse:
    """The automatic-debit mandate widget (``AutofinMandate.mount``)."""
    return FileResponse(HERE / "mandate.js", media_type="text/javascript")


@router.get("/collections.js")
async def collections_script() -> FileResponse:
    """The collection queue widget (``AutofinCollections.mount``), for the lender's console."""
    return FileResponse(HERE / "collections.js", media_type="text/javascript")
