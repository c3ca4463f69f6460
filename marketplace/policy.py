"""The risk policy in force: the pricing package's defaults, with settings applied; routes take
it as a dependency (``PolicyDep``) and hand it to the services."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Depends

from pricing import DEFAULT_POLICY, RiskPolicy
from shared.settings import get_settings


def current_policy() -> RiskPolicy:
    """The policy decisions, offers and expiries use now."""
    settings = get_settings()
    return replace(
        DEFAULT_POLICY,
        validity_days=settings.preapproval_valid_days,
        offers_kept=settings.offers_per_approval,
    )


PolicyDep = Annotated[RiskPolicy, Depends(current_policy)]
