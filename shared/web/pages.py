"""Serving the web pages: static HTML that calls the JSON API, under a strict CSP."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from shared import i18n

STATIC_DIR = Path(__file__).with_name("static")
# Pages load only their own scripts and styles and talk only to this origin.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def page(path: Path) -> FileResponse:
    """An HTML page with the security headers every page carries."""
    return FileResponse(path, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


i18n_router = APIRouter(include_in_schema=False)


@i18n_router.get("/i18n/{locale}.json")
async def page_messages(locale: str) -> JSONResponse:
    """The pages' strings in one language (``zh_CN`` or ``en``), from the ``pages`` catalogue;
    an unknown locale gets Chinese."""
    chosen = locale if locale in i18n.SUPPORTED_LOCALES else i18n.DEFAULT_LOCALE
    return JSONResponse(
        dict(i18n.translations("pages", chosen)), headers={"Cache-Control": "public, max-age=300"}
    )
