"""QR codes for the pages, drawn on the server by segno as SVG data URIs (the pages' CSP
allows ``data:`` images and no scripts from elsewhere, so no QR library runs in the browser)."""

from __future__ import annotations

import segno


def svg_data_uri(text: str) -> str:
    """``text`` as a QR code (error correction M), an ``data:image/svg+xml`` URI."""
    code = segno.make(text, error="m", micro=False)
    uri: str = code.svg_data_uri(scale=4, border=2, dark="#1d2733", light="#ffffff")
    return uri
