"""The dealer API (``/v1/dealer``) and the walk-in account claim (``/v1/auth/claim``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, status
from fastapi.responses import JSONResponse

from dealer_portal import handover, payment_link, service, views, walk_ins
from dealer_portal.collateral.router import router as collateral_router
from dealer_portal.decisions.router import routers as decisions_routers
from dealer_portal.exceptions import (
    ApprovalNotFound,
    ClaimInvalid,
    DealAlreadyCancelled,
    DealNotCancellable,
    DealNotFound,
    DealNotQuoted,
    DealRefused,
    InvalidVin,
    OfferNotOnApproval,
    VinMakeMismatch,
)
from dealer_portal.funding.exceptions import VinAlreadyFinanced
from dealer_portal.funding.router import routers as funding_routers
from dealer_portal.models import DealStatus
from dealer_portal.pages.router import router as pages_router
from dealer_portal.schemas import (
    ClaimedAccount,
    ClaimRequest,
    ConfirmedDeal,
    ConfirmRequest,
    DealCreate,
    DealPublic,
    LenderDealPublic,
    LookupPublic,
    LookupRequest,
    VinPublic,
    WalkInCreate,
    WalkInPublic,
)
from marketplace.applications import exceptions as application_exceptions
from marketplace.applications.bureau import BureauDep
from marketplace.applications.identity_check import IdentityVerifierDep
from marketplace.policy import PolicyDep
from marketplace.preapprovals.exceptions import PreapprovalUnavailable
from marketplace.scorecards.dependencies import ActiveModelsDep
from shared.brands.exceptions import UnknownBrand
from shared.db import ReadSessionDep, SessionDep, utcnow
from shared.errors import TooManyRequests, Unprocessable, error_responses
from shared.idempotency import (
    IDEMPOTENCY_HEADER,
    IdempotencyKeyDep,
    IdempotencyKeyInUse,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
)
from shared.identity.exceptions import EmailTaken
from shared.identity.principal import (
    DealerPrincipal,
    ReadOnlyDealerPrincipal,
    ReadOnlyLenderPrincipal,
)
from shared.pagination import Page, PageDep
from shared.payments.gateway import PaymentGatewayDep, PaymentProviderUnavailable

dealer_router = APIRouter(prefix="/v1/dealer", tags=["dealer"])
claim_router = APIRouter(prefix="/v1/auth", tags=["auth"])


@dealer_router.post(
    "/lookups", responses=error_responses(ApprovalNotFound, TooManyRequests, Unprocessable)
)
async def look_up_approval(
    body: LookupRequest, dealer: DealerPrincipal, session: SessionDep
) -> LookupPublic:
    """Look a buyer's approval up by its code and the last 4 digits of the buyer's phone.

    Shows the masked name, credit limit, expiry, grade and offers — never income, bureau facts
    or the national ID. An unknown code and a wrong verifier answer the same 404; repeated
    failures are throttled per dealer and per code (429). Each look-up is audited and shown to
    the buyer's advisor.
    """
    return await service.lookup(
        session, dealer, code=body.code, verifier=body.verifier, now=utcnow()
    )


@dealer_router.post(
    "/deals",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        ApprovalNotFound,
        PreapprovalUnavailable,
        DealRefused,
        OfferNotOnApproval,
        UnknownBrand,
        VinMakeMismatch,
        TooManyRequests,
    ),
)
async def quote_deal(
    body: DealCreate, dealer: DealerPrincipal, session: SessionDep, policy: PolicyDep
) -> DealPublic:
    """Structure a deal on a real car and quote it on one of the approval's locked offers.

    A refusal (422) names the rule that failed in `error.code` (`ltv_too_high`,
    `down_payment_too_low`, `used_car_term_too_long`, `amount_above_credit_limit`,
    `brand_not_covered`, …) and the field to change. The make is any name or alias of a
    catalogue brand (`unknown_brand` otherwise, with a suggestion) and is stored as its id; a VIN
    whose manufacturer builds another brand is refused (`vin_make_mismatch`). Quoting never locks
    the approval.
    """
    return await service.create_deal(session, dealer, body, utcnow(), policy)


@dealer_router.get("/vins/{vin}", responses=error_responses(InvalidVin))
async def decode_vin(
    vin: Annotated[str, Path(max_length=32)],
    dealer: ReadOnlyDealerPrincipal,
    session: ReadSessionDep,
) -> VinPublic:
    """Decode a VIN: whether its check digit holds, the manufacturer its WMI names, the catalogue
    brand that manufacturer builds (when it builds one) and the model year."""
    return await service.decode_vin(session, vin, utcnow())


@dealer_router.get("/deals")
async def list_deals(
    dealer: ReadOnlyDealerPrincipal,
    session: ReadSessionDep,
    page: PageDep,
    deal_status: Annotated[DealStatus | None, Query(alias="status")] = None,
) -> Page[DealPublic]:
    """The dealer's pipeline, newest first, optionally of one status."""
    items, total = await views.list_deals(
        session, dealer, status=deal_status, limit=page.limit, offset=page.offset
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@dealer_router.get("/deals/{deal_id}", responses=error_responses(DealNotFound))
async def get_deal(
    deal_id: uuid.UUID, dealer: ReadOnlyDealerPrincipal, session: ReadSessionDep
) -> DealPublic:
    """One deal with its status and, if the buyer's payment failed, why."""
    return await views.get_deal(session, dealer, deal_id)


@dealer_router.post(
    "/deals/{deal_id}/confirm",
    response_model=ConfirmedDeal,
    responses=error_responses(
        IdempotencyKeyRequired,
        DealNotFound,
        DealNotQuoted,
        PreapprovalUnavailable,
        VinAlreadyFinanced,
        IdempotencyKeyInUse,
        IdempotencyKeyReused,
        PaymentProviderUnavailable,
    ),
)
async def confirm_deal(
    deal_id: uuid.UUID,
    body: ConfirmRequest,
    dealer: DealerPrincipal,
    session: SessionDep,
    gateway: PaymentGatewayDep,
    idempotency_key: IdempotencyKeyDep,
) -> JSONResponse:
    """Confirm the deal at handover: the approval is consumed, the loan booked and the down
    payment requested (a Stripe PaymentIntent the buyer pays), exactly once.

    Retries with the same `Idempotency-Key` replay the first answer; the same key with another
    request is 422; an approval no longer available (consumed by any deal, expired, cancelled)
    or a deal that is not quoted is 409.
    """
    answer, replayed = await handover.confirm(
        session, gateway, dealer, deal_id, body, idempotency_key=idempotency_key
    )
    return answer.to_response(replayed=replayed)


@dealer_router.post(
    "/deals/{deal_id}/cancel",
    response_model=DealPublic,
    responses=error_responses(
        DealNotFound,
        DealNotCancellable,
        DealAlreadyCancelled,
        IdempotencyKeyInUse,
        IdempotencyKeyReused,
        PaymentProviderUnavailable,
    ),
)
async def cancel_deal(
    deal_id: uuid.UUID,
    dealer: DealerPrincipal,
    session: SessionDep,
    gateway: PaymentGatewayDep,
    idempotency_key: Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER)] = None,
) -> JSONResponse:
    """Cancel before handover: the loan is cancelled, the credit given back to the buyer, and
    the down payment's PaymentIntent cancelled (or refunded if it was paid). A handed-over deal
    cannot be cancelled (409). Repeating the call replays its answer."""
    answer, replayed = await handover.cancel(
        session, gateway, dealer, deal_id, idempotency_key=idempotency_key
    )
    return answer.to_response(replayed=replayed)


@dealer_router.post(
    "/walk-ins",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        application_exceptions.ConsentRequired,
        application_exceptions.IdentityMismatch,
        application_exceptions.ApplicationRefused,
        TooManyRequests,
    ),
)
async def submit_walk_in(
    body: WalkInCreate,
    dealer: DealerPrincipal,
    session: SessionDep,
    bureau: BureauDep,
    models: ActiveModelsDep,
    policy: PolicyDep,
    verifier: IdentityVerifierDep,
) -> WalkInPublic:
    """Submit a customer at the dealership to every lender at once, with their recorded consent.

    The customer, present with their ID card, is checked as online buyers are (name, national
    ID and phone together) and the application goes to the account holding their phone: a new
    one, claimable with the one-time `claim_code` in the answer (`POST /v1/auth/claim`), or the
    one they already have. The answer never includes the national ID.
    """
    return await walk_ins.submit(
        session, dealer, body, bureau, verifier, utcnow(), models=models, policy=policy
    )


@claim_router.post(
    "/claim", responses=error_responses(ClaimInvalid, EmailTaken, TooManyRequests, Unprocessable)
)
async def claim_walk_in_account(body: ClaimRequest, session: SessionDep) -> ClaimedAccount:
    """Claim the account a dealer opened at a walk-in: the phone and the one-time claim code
    set the email and password (then log in at `/v1/auth/token`). A code works once, within
    14 days."""
    user = await walk_ins.claim(session, body, utcnow())
    return ClaimedAccount(id=user.id, email=user.email, kind=user.kind)


# -- the lender's view of the deals on its products ---------------------------------------------

lender_router = APIRouter(prefix="/v1/lender", tags=["lender"])


@lender_router.get("/pipeline")
async def lender_pipeline(
    lender: ReadOnlyLenderPrincipal,
    session: ReadSessionDep,
    page: PageDep,
    deal_status: Annotated[DealStatus | None, Query(alias="status")] = None,
) -> Page[LenderDealPublic]:
    """Deals structured on the lender's products at any dealer, newest first, optionally of one
    status; each names its product version and, once confirmed, its loan."""
    items, total = await views.list_lender_deals(
        session, lender, status=deal_status, limit=page.limit, offset=page.offset
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


# Included into the app one by one (see marketplace.router); the pages last.
routers: tuple[APIRouter, ...] = (
    dealer_router,
    claim_router,
    payment_link.router,
    lender_router,
    *decisions_routers,
    *funding_routers,
    collateral_router,
    pages_router,
)
