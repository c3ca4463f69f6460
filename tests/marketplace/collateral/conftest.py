"""Collateral tests book loans the way servicing's tests do (``tests.servicing.conftest``)."""

from __future__ import annotations

import pytest

from tests.servicing.conftest import admin, book_loan  # noqa: F401  (fixtures)
from tests.stripe_fixtures import LocalStripe


@pytest.fixture(autouse=True)
def _stripe(stripe_settings: LocalStripe) -> LocalStripe:
    return stripe_settings
