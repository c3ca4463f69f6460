"""Serving the web pages: static HTML that calls the JSON API, under a strict CSP."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from shared import i18n
from shared.settings import get_settings

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


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def stripe_page_headers() -> dict[str, str]:
    """The headers of a page that takes a card: Stripe.js may load from its address, talk to
    Stripe's API (or the emulator) and frame Stripe's card fields; nothing else is widened."""
    settings = get_settings()
    stripe = {_origin(settings.stripe_js_address), _origin(settings.stripe_api_base)}
    if _origin(settings.stripe_js_address) == "https://js.stripe.com":
        stripe |= {"https://api.stripe.com", "https://hooks.stripe.com"}
    sources = " ".join(sorted(stripe))
    policy = (
        f"default-src 'self'; script-src 'self' {sources}; style-src 'self'; "
        f"img-src 'self' data:; connect-src 'self' {sources}; frame-src {sources}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return {**PAGE_HEADERS, "Content-Security-Policy": policy}


def page(path: Path, *, takes_cards: bool = False) -> FileResponse:
    """An HTML page with the security headers every page carries (a page that takes a card
    with Stripe.js gets Stripe's addresses added to its policy)."""
    headers = stripe_page_headers() if takes_cards else PAGE_HEADERS
    return FileResponse(path, media_type="text/html; charset=utf-8", headers=headers)


def serve_scripts(router: APIRouter, folder: Path, *names: str) -> None:
    """Serve each of these page scripts of ``folder`` at ``/<name>`` (a page's own script and
    the widgets other pages mount)."""
    for name in names:
        path = folder / name

        async def script(path: Path = path) -> FileResponse:
            return FileResponse(path, media_type="text/javascript")

        router.add_api_route(f"/{name}", script, methods=["GET"], name=name)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


i18n_router = APIRouter(include_in_schema=False)


@i18n_router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """The pages link /static/favicon.svg; browsers that ask for /favicon.ico get it too."""
    return FileResponse(
        STATIC_DIR / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@i18n_router.get("/i18n/{locale}.json")
async def page_messages(locale: str) -> JSONResponse:
    """The pages' strings in one language (``zh_CN`` or ``en``), from the ``pages`` catalogue;
    an unknown locale gets Chinese."""
    chosen = locale if locale in i18n.SUPPORTED_LOCALES else i18n.DEFAULT_LOCALE
    return JSONResponse(
        dict(i18n.translations("pages", chosen)), headers={"Cache-Control": "public, max-age=300"}
    )
