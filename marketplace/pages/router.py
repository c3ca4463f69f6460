"""The marketplace's web pages: the landing page, the buyer's pages and the lender, advisor and
admin consoles; static files that use the API."""

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
    return page(HERE / "buyer.html", takes_cards=True)


@router.get("/buyer.js")
async def buyer_script() -> FileResponse:
    return FileResponse(HERE / "buyer.js", media_type="text/javascript")


# The consoles; /static/console.js and console.css are shared by the three.
@router.get("/lender")
async def lender_console() -> FileResponse:
    return page(HERE / "lender.html")


@router.get("/lender.js")
async def lender_script() -> FileResponse:
    return FileResponse(HERE / "lender.js", media_type="text/javascript")


@router.get("/advisor")
async def advisor_console() -> FileResponse:
    return page(HERE / "advisor.html")


@router.get("/advisor.js")
async def advisor_script() -> FileResponse:
    return FileResponse(HERE / "advisor.js", media_type="text/javascript")


@router.get("/admin")
async def admin_console() -> FileResponse:
    return page(HERE / "admin.html")


@router.get("/admin.js")
async def admin_script() -> FileResponse:
    return FileResponse(HERE / "admin.js", media_type="text/javascript")


@router.get("/contract.js")
async def contract_script() -> FileResponse:
    return FileResponse(HERE / "contract.js", media_type="text/javascript")


@router.get("/lender_decisions.js")
async def lender_decisions_script() -> FileResponse:
    """The decision queue widget (``AutofinLenderDecisions.mount``), for the lender's console."""
    return FileResponse(HERE / "lender_decisions.js", media_type="text/javascript")


@router.get("/mandate.js")
async def mandate_script() -> FileResponse:
    """The automatic-debit mandate widget (``AutofinMandate.mount``)."""
    return FileResponse(HERE / "mandate.js", media_type="text/javascript")


@router.get("/collections.js")
async def collections_script() -> FileResponse:
    """The collection queue widget (``AutofinCollections.mount``), for the lender's console."""
    return FileResponse(HERE / "collections.js", media_type="text/javascript")
