"""``/v1/dealer/deals/{id}/collateral`` (and ``…/release``) and ``/v1/dealer/collateral``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from dealer_portal.collateral import service
from dealer_portal.decisions.exceptions import DocumentNotFound
from dealer_portal.exceptions import DealNotFound
from marketplace.collateral.exceptions import (
    CollateralAlreadyRegistered,
    CollateralAlreadyReleased,
    CollateralDateInvalid,
    CollateralNotOpen,
    CollateralNotRegistrable,
    CollateralReleaseNotIssued,
)
from marketplace.collateral.models import CollateralStatus
from marketplace.collateral.schemas import (
    CollateralPublic,
    CollateralRegistration,
    CollateralRelease,
    DealerCollateral,
)
from shared.db import SessionDep
from shared.errors import error_responses
from shared.identity.principal import DealerPrincipal
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/dealer", tags=["dealer"])


@router.get("/collateral")
async def list_collateral(
    dealer: DealerPrincipal,
    session: SessionDep,
    page: PageDep,
    collateral_status: Annotated[CollateralStatus | None, Query(alias="status")] = None,
    overdue: bool | None = None,
) -> Page[DealerCollateral]:
    """The registrations (and releases) of the dealer's funded deals, soonest due first."""
    items, total = await service.dealer_page(
        session,
        dealer,
        status=collateral_status,
        overdue=overdue,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get(
    "/deals/{deal_id}/collateral",
    responses=error_responses(DealNotFound, CollateralNotOpen),
)
async def get_collateral(
    deal_id: uuid.UUID, dealer: DealerPrincipal, session: SessionDep
) -> CollateralPublic:
    """When the registration is due, whether it is overdue, and what was recorded."""
    return await service.collateral(session, dealer, deal_id)


@router.post(
    "/deals/{deal_id}/collateral",
    responses=error_responses(
        DealNotFound,
        DocumentNotFound,
        CollateralNotOpen,
        CollateralNotRegistrable,
        CollateralAlreadyRegistered,
        CollateralDateInvalid,
    ),
)
async def register_collateral(
    deal_id: uuid.UUID, body: CollateralRegistration, dealer: DealerPrincipal, session: SessionDep
) -> CollateralPublic:
    """Record the car's registration as the lender's collateral (抵押登记), after funding, with
    the certificate uploaded first to `POST /v1/dealer/deals/{id}/documents`. Due within the
    product's `collateral_days` of funding; a late one is accepted and shown as late. Sending
    the same registration again answers the same (safe to retry); a different one is 409."""
    return await service.register(session, dealer, deal_id, body)


@router.post(
    "/deals/{deal_id}/collateral/release",
    responses=error_responses(
        DealNotFound,
        DocumentNotFound,
        CollateralNotOpen,
        CollateralReleaseNotIssued,
        CollateralAlreadyReleased,
        CollateralDateInvalid,
    ),
)
async def record_release(
    deal_id: uuid.UUID, body: CollateralRelease, dealer: DealerPrincipal, session: SessionDep
) -> CollateralPublic:
    """Record the release (解押) done at the vehicle administration office, once the loan is
    paid off and the release instructions issued; the same release again answers the same."""
    return await service.release(session, dealer, deal_id, body)
