"""Admin routes of the scorecard registry: publish, list, champion, challenger."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response, status

from marketplace.scorecards import service
from marketplace.scorecards.exceptions import (
    ScorecardInvalid,
    ScorecardIsChampion,
    ScorecardNotFound,
    ScorecardRoleConflict,
    ScorecardVersionTaken,
)
from marketplace.scorecards.models import PublishedScorecard
from marketplace.scorecards.schemas import ScorecardDetail, ScorecardPublic, scorecard_public
from shared.db import SessionDep, utcnow
from shared.errors import error_responses
from shared.identity.principal import AdminPrincipal
from shared.pagination import Page, PageDep

admin_router = APIRouter(prefix="/v1/admin/scorecards", tags=["admin"])

ScorecardBody = Annotated[
    dict[str, Any],
    Body(
        description="A scorecard in the project's JSON format (see pricing/README.md), e.g. the "
        "scorecard.json that `autofin risk train` writes.",
    ),
]


async def _public(row: PublishedScorecard) -> ScorecardPublic:
    return scorecard_public(row, service.parse(row.card))


@admin_router.get("")
async def list_scorecards(
    admin: AdminPrincipal, session: SessionDep, page: PageDep
) -> Page[ScorecardPublic]:
    """Every published card, newest first, with its role (champion, challenger, candidate)."""
    rows, total = await service.published_page(session, limit=page.limit, offset=page.offset)
    items = [await _public(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@admin_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(ScorecardInvalid, ScorecardVersionTaken),
)
async def publish_scorecard(
    card: ScorecardBody, admin: AdminPrincipal, session: SessionDep
) -> ScorecardPublic:
    """Add a candidate card. Versions are immutable: the same card again is answered with the
    stored one; a different card under a version already taken is refused (409)."""
    return await _public(await service.publish(session, admin, card, utcnow()))


@admin_router.get("/{version}", responses=error_responses(ScorecardNotFound))
async def get_scorecard(
    version: str, admin: AdminPrincipal, session: SessionDep
) -> ScorecardDetail:
    row = await service.published(session, version)
    public = await _public(row)
    return ScorecardDetail(**public.model_dump(), card=row.card)


@admin_router.post(
    "/{version}/activate",
    responses=error_responses(ScorecardNotFound, ScorecardRoleConflict),
)
async def activate_scorecard(
    version: str, admin: AdminPrincipal, session: SessionDep
) -> ScorecardPublic:
    """Make this card the champion: every application from now on is decided by it. The
    previous champion becomes a candidate. One champion at a time, audited."""
    return await _public(await service.activate(session, admin, version, utcnow()))


@admin_router.post(
    "/{version}/challenger",
    responses=error_responses(ScorecardNotFound, ScorecardIsChampion, ScorecardRoleConflict),
)
async def set_challenger(
    version: str, admin: AdminPrincipal, session: SessionDep
) -> ScorecardPublic:
    """Score this card in shadow on every application: recorded beside the decision, never
    used for it."""
    return await _public(await service.set_challenger(session, admin, version, utcnow()))


@admin_router.delete("/challenger", status_code=status.HTTP_204_NO_CONTENT)
async def clear_challenger(admin: AdminPrincipal, session: SessionDep) -> Response:
    """Stop shadow scoring."""
    await service.clear_challenger(session, admin, utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
