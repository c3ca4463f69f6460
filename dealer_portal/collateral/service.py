"""The dealer records a funded deal's registration and release; the rules are the
marketplace's (``marketplace.collateral.service``), the deal's tenancy and documents are here."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import repository as deal_repository
from dealer_portal.collateral import repository
from dealer_portal.decisions import repository as document_repository
from dealer_portal.decisions.exceptions import DocumentNotFound
from dealer_portal.exceptions import DealNotFound
from dealer_portal.models import DealerDeal
from marketplace.collateral import service as collateral_service
from marketplace.collateral import views as collateral_views
from marketplace.collateral.exceptions import CollateralNotOpen
from marketplace.collateral.models import CollateralStatus
from marketplace.collateral.schemas import (
    CollateralPublic,
    CollateralRegistration,
    CollateralRelease,
    DealerCollateral,
)
from shared.identity.principal import Principal


async def _funded_deal(
    session: AsyncSession, dealer: Principal, deal_id: uuid.UUID
) -> tuple[DealerDeal, uuid.UUID]:
    deal = await deal_repository.get_deal(session, deal_id, dealer_id=dealer.org_id)
    if deal is None:
        raise DealNotFound()
    if deal.loan_id is None:
        raise CollateralNotOpen()
    return deal, deal.loan_id


async def _check_document(
    session: AsyncSession, deal_id: uuid.UUID, document_id: uuid.UUID | None
) -> None:
    if (
        document_id is not None
        and await document_repository.document(session, deal_id, document_id) is None
    ):
        raise DocumentNotFound(field="document_id")


async def collateral(
    session: AsyncSession, dealer: Principal, deal_id: uuid.UUID
) -> CollateralPublic:
    """The deal's collateral: due date, status, the registration and release recorded."""
    deal, loan_id = await _funded_deal(session, dealer, deal_id)
    record = await collateral_service.dealer_collateral(session, dealer, loan_id)
    return collateral_views.public(record, deal_id=deal.id)


async def register(
    session: AsyncSession, dealer: Principal, deal_id: uuid.UUID, body: CollateralRegistration
) -> CollateralPublic:
    """Record the registration; its certificate must be one of the deal's documents."""
    deal, loan_id = await _funded_deal(session, dealer, deal_id)
    await _check_document(session, deal.id, body.document_id)
    not_before = (deal.confirmed_at or deal.created_at).date()
    record = await collateral_service.record_registration(
        session, dealer, loan_id, body, not_before=not_before
    )
    return collateral_views.public(record, deal_id=deal.id)


async def release(
    session: AsyncSession, dealer: Principal, deal_id: uuid.UUID, body: CollateralRelease
) -> CollateralPublic:
    """Record the release done after payoff (its document, if any, one of the deal's)."""
    deal, loan_id = await _funded_deal(session, dealer, deal_id)
    await _check_document(session, deal.id, body.document_id)
    record = await collateral_service.record_release(session, dealer, loan_id, body)
    return collateral_views.public(record, deal_id=deal.id)


async def dealer_page(
    session: AsyncSession,
    dealer: Principal,
    *,
    status: CollateralStatus | None,
    overdue: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[DealerCollateral], int]:
    rows, total = await repository.dealer_page(
        session,
        dealer_id=dealer.org_id,
        status=status,
        overdue=overdue,
        limit=limit,
        offset=offset,
    )
    items = [
        DealerCollateral(**collateral_views.public(record, deal_id=deal_id).model_dump(), vin=vin)
        for record, deal_id, vin in rows
    ]
    return items, total
