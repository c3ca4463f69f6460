"""Every string key the pages use is in both page catalogues (Chinese and English), so no page
ever shows a raw key such as ``buyer.pay``."""

from __future__ import annotations

import re
from pathlib import Path

from shared import i18n

ROOT = Path(__file__).resolve().parents[2]
PAGE_FILES = [
    "shared/web/static/app.js",
    "marketplace/pages/index.html",
    "marketplace/pages/buyer.html",
    "marketplace/pages/buyer.js",
    "dealer_portal/pages/dealer.html",
    "dealer_portal/pages/dealer.js",
    "dealer_portal/pages/pay.html",
    "dealer_portal/pages/pay.js",
]
KEY = r"(?:common|landing|buyer|dealer|pay|offer|role)\.[a-z_0-9]+"
USES = [
    re.compile(rf'data-i18n(?:-alt|-label)?="({KEY})"'),
    re.compile(rf'\bt\("({KEY})"'),
    re.compile(rf'\[\s*"({KEY})"\s*,'),
]


def used_keys() -> set[str]:
    keys: set[str] = set()
    for name in PAGE_FILES:
        text = (ROOT / name).read_text(encoding="utf-8")
        for pattern in USES:
            keys |= set(pattern.findall(text))
    return keys


def test_every_key_the_pages_use_is_in_both_catalogues() -> None:
    keys = used_keys()
    assert len(keys) > 150
    for locale in ("zh_CN", "en"):
        catalogue = i18n.translations("pages", locale)
        assert sorted(keys - catalogue.keys()) == [], locale


def test_labels_the_pages_build_are_in_both_catalogues() -> None:
    """Statuses, roles and methods shown through ``label(kind, value)``."""
    needed = [
        *(f"role.{r}" for r in ("buyer", "dealer", "lender", "advisor", "admin")),
        *(f"method.{m}" for m in ("equal_installment", "equal_principal")),
        *(f"installment_status.{s}" for s in ("due", "paid", "late")),
        *(f"deal_status.{s}" for s in ("quoted", "confirmed", "handed_over", "cancelled")),
        *(f"identity_document.{d}" for d in ("resident_id_card", "passport")),
    ]
    for locale in ("zh_CN", "en"):
        catalogue = i18n.translations("pages", locale)
        assert [key for key in needed if key not in catalogue] == [], locale
