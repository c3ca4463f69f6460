"""The lender's view of its loans' collateral (one loan's, and the list the console filters for
the overdue ones), and the buyer's view of their own car's."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from marketplace.collateral import service, views
from marketplace.collateral.exceptions import CollateralNotFound
from marketplace.collateral.models import CollateralStatus
from marketplace.collateral.schemas import CollateralPublic
from marketplace.servicing.exceptions import LoanNotFound
from shared.db import SessionDep
from shared.errors import error_responses
from shared.identity.principal import BuyerPrincipal, LenderPrincipal
from shared.pagination import Page, PageDep

lender_router = APIRouter(prefix="/v1/lender", tags=["lender"])
buyer_router = APIRouter(prefix="/v1/buyer", tags=["buyer"])


@lender_router.get("/collateral")
async def list_collateral(
    lender: LenderPrincipal,
    session: SessionDep,
    page: PageDep,
    collateral_status: Annotated[CollateralStatus | None, Query(alias="status")] = None,
    overdue: bool | None = None,
) -> Page[CollateralPublic]:
    """The collateral of the lender's funded loans, soonest due first; `overdue=true` lists
    the registrations still owed past their due date (flagged by the daily jobs)."""
    records, total = await service.lender_page(
        session,
        lender,
        status=collateral_status,
        overdue=overdue,
        limit=page.limit,
        offset=page.offset,
    )
    items = [views.public(record) for record in records]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@lender_router.get(
    "/loans/{loan_id}/collateral",
    responses=error_responses(LoanNotFound, CollateralNotFound),
)
async def get_collateral(
    loan_id: uuid.UUID, lender: LenderPrincipal, session: SessionDep
) -> CollateralPublic:
    """The loan's collateral: due date, whether it is overdue, the registration as recorded
    and, after payoff, the release instructions and the release."""
    return views.public(await service.lender_collateral(session, lender, loan_id))


@buyer_router.get(
    "/loans/{loan_id}/collateral",
    responses=error_responses(LoanNotFound, CollateralNotFound),
)
async def get_my_collateral(
    loan_id: uuid.UUID, buyer: BuyerPrincipal, session: SessionDep
) -> CollateralPublic:
    """The car's registration as the lender's collateral and, once the loan is paid off, the
    release (解押) instructions to take to the vehicle administration office."""
    return views.public(await service.buyer_collateral(session, buyer, loan_id))
