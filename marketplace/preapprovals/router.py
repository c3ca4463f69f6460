"""Buyer routes on pre-approvals: see them, show one to a dealer, quote a car, give one up."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from marketplace.policy import PolicyDep
from marketplace.preapprovals import quoting, service, views
from marketplace.preapprovals.exceptions import PreapprovalNotFound, PreapprovalUnavailable
from marketplace.preapprovals.schemas import (
    PreapprovalPublic,
    PreapprovalQr,
    QuoteRequest,
    QuoteResponse,
)
from pricing import Deal
from shared.brands import service as brand_service
from shared.brands.exceptions import UnknownBrand
from shared.db import SessionDep, utcnow
from shared.errors import error_responses
from shared.identity.principal import BuyerPrincipal
from shared.pagination import Page, PageDep
from shared.web.qr import svg_data_uri

buyer_router = APIRouter(prefix="/v1/buyer", tags=["buyer"])


@buyer_router.get("/preapprovals")
async def list_preapprovals(
    buyer: BuyerPrincipal, session: SessionDep, page: PageDep
) -> Page[PreapprovalPublic]:
    items, total = await views.buyer_preapprovals(
        session, buyer.uid, utcnow(), limit=page.limit, offset=page.offset
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@buyer_router.get("/preapprovals/{preapproval_id}", responses=error_responses(PreapprovalNotFound))
async def get_preapproval(
    preapproval_id: uuid.UUID, buyer: BuyerPrincipal, session: SessionDep
) -> PreapprovalPublic:
    """The pre-approval with its `status` (an approval past its expiry reads `expired`)."""
    preapproval = await service.get_for_buyer(session, buyer.uid, preapproval_id)
    status = service.effective_status(preapproval, utcnow())
    return await views.buyer_preapproval(session, preapproval, status)


@buyer_router.get(
    "/preapprovals/{preapproval_id}/qr", responses=error_responses(PreapprovalNotFound)
)
async def preapproval_qr(
    preapproval_id: uuid.UUID, request: Request, buyer: BuyerPrincipal, session: SessionDep
) -> PreapprovalQr:
    preapproval = await service.get_for_buyer(session, buyer.uid, preapproval_id)
    url = f"{str(request.base_url).rstrip('/')}/dealer#code={preapproval.code}"
    return PreapprovalQr(code=preapproval.code, url=url, qr_svg=svg_data_uri(url))


@buyer_router.post(
    "/preapprovals/{preapproval_id}/quotes",
    responses=error_responses(PreapprovalNotFound, PreapprovalUnavailable, UnknownBrand),
)
async def quote_car(
    preapproval_id: uuid.UUID,
    body: QuoteRequest,
    buyer: BuyerPrincipal,
    session: SessionDep,
    policy: PolicyDep,
) -> QuoteResponse:
    """Quote a hypothetical car on the approval's locked offers, cheapest total cost first.

    Quoting never locks or consumes the approval.
    """
    preapproval = await service.get_for_buyer(session, buyer.uid, preapproval_id)
    brand = await brand_service.resolve(session, body.brand, field="brand") if body.brand else None
    deal = Deal(  # a PricingInputError: 422 naming the field (refusals.invalid_input)
        car_price=body.car_price,
        down_payment=body.down_payment,
        term_months=body.term_months,
        vehicle_type=body.vehicle_type,  # type: ignore[arg-type]  # Deal validates it
        brand=brand,
    )
    quote = await quoting.quote(session, preapproval, deal, utcnow(), policy)
    return await views.quote_response(session, quote)


@buyer_router.post(
    "/preapprovals/{preapproval_id}/cancel",
    responses=error_responses(PreapprovalNotFound, PreapprovalUnavailable),
)
async def cancel_preapproval(
    preapproval_id: uuid.UUID, buyer: BuyerPrincipal, session: SessionDep
) -> PreapprovalPublic:
    """Give up an active pre-approval (to apply again, say)."""
    preapproval = await service.get_for_buyer(session, buyer.uid, preapproval_id)
    cancelled = await service.cancel(session, buyer, preapproval, utcnow())
    return await views.buyer_preapproval(session, cancelled, cancelled.status)
