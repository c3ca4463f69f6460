"""Checks every page test can run on the page it is looking at: an automated accessibility audit
(axe-core, bundled by axe-playwright-python) that fails on serious or critical violations, and
no sideways scrolling (nothing wider than the window: what a phone would have to pan)."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

FAILING_IMPACTS = frozenset({"serious", "critical"})
# The card fields belong to Stripe.js (an iframe from Stripe in production; the local emulator's
# stand-in draws bare inputs): not our markup to audit.
THIRD_PARTY = ("#card-element",)

_axe = Axe()


async def assert_accessible(page: Page, *, exclude: tuple[str, ...] = THIRD_PARTY) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    context: dict[str, Any] = {"exclude": [[selector] for selector in exclude]}
    results = await _axe.run(page, context=context)
    failing = [
        violation
        for violation in results.response["violations"]
        if violation.get("impact") in FAILING_IMPACTS
    ]
    report = "\n".join(
        f"{v['impact']}: {v['id']} — {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in failing
    )
    assert not failing, f"{page.url}:\n{report}"


# The window's width, the page's scroll width, and the first few elements poking past the edge.
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter((node) => node.getClientRects().length)
    .filter((node) => node.getBoundingClientRect().right > width + 1)
    .slice(0, 5)
    .map((node) => `${node.tagName}#${node.id}.${node.className}`);
  return { scroll: document.documentElement.scrollWidth, width, wide };
}"""

# Visible controls under 16 px text (iOS zooms on focus) or under 44 px tall (tap targets);
# Stripe's card fields are Stripe's.
SMALL_CONTROLS_JS = """() => {
  const controls = "main input:not([type=checkbox]), main select, main textarea, main button, "
    + "header button";
  return [...document.querySelectorAll(controls)]
    .filter((node) => node.getClientRects().length && !node.closest("#card-element"))
    .filter((node) => parseFloat(getComputedStyle(node).fontSize) < 16
      || node.getBoundingClientRect().height < 43.5)
    .map((node) => `${node.tagName}[name=${node.name}]#${node.id}`);
}"""


async def assert_fits_the_window(page: Page) -> None:
    """Nothing is wider than the window (no horizontal scroll), and which element is when so."""
    overflow = await page.evaluate(OVERFLOW_JS)
    assert overflow["scroll"] <= overflow["width"], f"{page.url}: {overflow}"


async def assert_phone_friendly(page: Page) -> None:
    """Text inputs are at least 16 px (no zoom on focus) and visible controls at least 44 px
    tall (tap targets), besides fitting the window."""
    await assert_fits_the_window(page)
    small = await page.evaluate(SMALL_CONTROLS_JS)
    assert not small, f"{page.url}: controls too small: {small}"


async def assert_page_checks(page: Page) -> None:
    await assert_phone_friendly(page)
    await assert_accessible(page)
