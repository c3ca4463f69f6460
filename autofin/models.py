"""Every table of every domain, imported so that ``metadata`` is complete (for Alembic)."""

from __future__ import annotations

from dealer_portal import models as _dealer_portal  # noqa: F401
from dealer_portal.decisions import models as _decisions  # noqa: F401
from dealer_portal.funding import models as _funding  # noqa: F401
from marketplace.advisors import models as _advisors  # noqa: F401
from marketplace.applications import models as _applications  # noqa: F401
from marketplace.collateral import models as _collateral  # noqa: F401
from marketplace.collections import models as _collections  # noqa: F401
from marketplace.monitoring import models as _monitoring  # noqa: F401
from marketplace.preapprovals import models as _preapprovals  # noqa: F401
from marketplace.products import models as _products  # noqa: F401
from marketplace.scorecards import models as _scorecards  # noqa: F401
from marketplace.servicing import models as _servicing  # noqa: F401
from shared import audit as _audit  # noqa: F401
from shared import idempotency as _idempotency  # noqa: F401
from shared import ratelimit as _ratelimit  # noqa: F401
from shared.brands import models as _brands  # noqa: F401
from shared.db import metadata
from shared.identity import models as _identity  # noqa: F401
from shared.payments import models as _payments  # noqa: F401
from shared.webhooks import models as _webhooks  # noqa: F401

__all__ = ["metadata"]
