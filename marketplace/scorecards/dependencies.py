"""The cards in service as a request dependency: resolved once per request in the router and
passed to the services, so a decision never reads a global."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from marketplace.scorecards import service
from marketplace.scorecards.service import ActiveModels
from shared.db import SessionDep


async def get_active_models(session: SessionDep) -> ActiveModels:
    """The champion and the challenger (one small query; cards are parsed once per process)."""
    return await service.active_models(session)


ActiveModelsDep = Annotated[ActiveModels, Depends(get_active_models)]
