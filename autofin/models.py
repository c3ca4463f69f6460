"""Every table of every domain, imported so that ``metadata`` is complete (for Alembic)."""

from __future__ import annotations

from shared import audit as _audit  # noqa: F401
from shared.db import metadata
from shared.identity import models as _identity  # noqa: F401

__all__ = ["metadata"]
