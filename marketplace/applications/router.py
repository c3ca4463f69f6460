"""Buyer routes: apply, see decisions and pre-approvals, quote a car, talk to the advisor."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status
from pydantic import Field

from marketplace import refusals
from marketplace.advisors import repository as advisor_repository
from marketplace.advisors import service as advisor_service
from marketplace.advisors.schemas import MessageCreate, MessagePublic
from marketplace.applications import consents, exceptions
from marketplace.applications import repository as application_repository
from marketplace.applications import service as application_service
from marketplace.applications.bureau import BureauDep
from marketplace.applications.identity_check import IdentityVerifierDep
from marketplace.applications.schemas import ApplicationCreate, ApplicationPublic, ConsentPublic
from marketplace.applications.views import application_views
from marketplace.policy import PolicyDep
from marketplace.preapprovals import exceptions as preapproval_exceptions
from marketplace.preapprovals import repository as preapproval_repository
from marketplace.preapprovals import service as preapproval_service
from marketplace.preapprovals.schemas import (
    OfferPublic,
    PreapprovalPublic,
    ProductNotOffered,
    QuoteRequest,
    QuoteResponse,
    car_grade_public,
    preapproval_public,
)
from marketplace.scorecards.dependencies import ActiveModelsDep
from pricing import Deal
from shared.brands import service as brand_service
from shared.brands.exceptions import UnknownBrand
from shared.db import SessionDep, utcnow
from shared.errors import TooManyRequests, error_responses
from shared.identity.principal import BuyerPrincipal
from shared.pagination import Page, PageDep
from shared.schemas import ResponseModel
from shared.web.qr import svg_data_uri

router = APIRouter(prefix="/v1/buyer", tags=["buyer"])


@router.post(
    "/applications",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        exceptions.ConsentRequired,
        exceptions.IdentityMismatch,
        exceptions.ApplicationRefused,
        TooManyRequests,
    ),
)
async def apply(
    body: ApplicationCreate,
    buyer: BuyerPrincipal,
    session: SessionDep,
    bureau: BureauDep,
    models: ActiveModelsDep,
    policy: PolicyDep,
    verifier: IdentityVerifierDep,
) -> ApplicationPublic:
    """Apply for a pre-approval, with the authorisation of a credit-bureau pull and the separate
    consent to share the decision with the named lenders (both recorded with their texts).

    The person is the account's own: the first application checks the account's name, this
    national ID and its verified phone together, then binds the account to the ID for good.
    An ID bound to another account, or holding an active pre-approval, is refused with one
    and the same 409 `application_refused`.

    The answer carries the decision (`approved`, `declined` with reasons, or `pending_bureau`
    when the bureau is unavailable — retry later) and, when approved, the pre-approval with
    offers locked until it expires.
    """
    application = await application_service.submit(
        session,
        buyer,
        body,
        bureau,
        verifier,
        buyer_id=buyer.uid,
        now=utcnow(),
        models=models,
        policy=policy,
    )
    return (await application_views(session, [application]))[0]


@router.get("/applications")
async def list_applications(
    buyer: BuyerPrincipal, session: SessionDep, page: PageDep
) -> Page[ApplicationPublic]:
    rows, total = await application_repository.list_for_buyer(
        session, buyer.uid, limit=page.limit, offset=page.offset
    )
    items = await application_views(session, rows)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get(
    "/applications/{application_id}", responses=error_responses(exceptions.ApplicationNotFound)
)
async def get_application(
    application_id: uuid.UUID, buyer: BuyerPrincipal, session: SessionDep
) -> ApplicationPublic:
    application = await application_service.get_for_buyer(session, buyer.uid, application_id)
    return (await application_views(session, [application]))[0]


@router.post(
    "/applications/{application_id}/retry",
    responses=error_responses(exceptions.ApplicationNotFound, exceptions.AlreadyDecided),
)
async def retry_application(
    application_id: uuid.UUID,
    buyer: BuyerPrincipal,
    session: SessionDep,
    bureau: BureauDep,
    models: ActiveModelsDep,
    policy: PolicyDep,
) -> ApplicationPublic:
    """Retry the bureau pull of an application left `pending_bureau`."""
    application = await application_service.retry(
        session, buyer, application_id, bureau, utcnow(), models=models, policy=policy
    )
    return (await application_views(session, [application]))[0]


@router.get("/consents")
async def list_consents(
    buyer: BuyerPrincipal, session: SessionDep, page: PageDep
) -> Page[ConsentPublic]:
    """What the buyer agreed to, per application: the texts and versions, the named lenders,
    and whether the sharing consent was withdrawn."""
    rows, total = await consents.list_for_buyer(
        session, buyer.uid, limit=page.limit, offset=page.offset
    )
    items = [ConsentPublic.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/consents/{consent_id}/withdraw",
    responses=error_responses(exceptions.ConsentNotFound, exceptions.ConsentNotWithdrawable),
)
async def withdraw_consent(
    consent_id: uuid.UUID, buyer: BuyerPrincipal, session: SessionDep
) -> ConsentPublic:
    """Withdraw the consent to share a decision with lenders, for any future use."""
    consent = await consents.withdraw(session, buyer, consent_id, utcnow())
    return ConsentPublic.model_validate(consent)


@router.get("/preapprovals")
async def list_preapprovals(
    buyer: BuyerPrincipal, session: SessionDep, page: PageDep
) -> Page[PreapprovalPublic]:
    rows, total = await preapproval_repository.list_for_buyer(
        session, buyer.uid, limit=page.limit, offset=page.offset
    )
    offers = await preapproval_repository.offers_for(session, [row.id for row in rows])
    now = utcnow()
    items = [
        preapproval_public(row, offers[row.id], preapproval_service.effective_status(row, now))
        for row in rows
    ]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get(
    "/preapprovals/{preapproval_id}",
    responses=error_responses(preapproval_exceptions.PreapprovalNotFound),
)
async def get_preapproval(
    preapproval_id: uuid.UUID, buyer: BuyerPrincipal, session: SessionDep
) -> PreapprovalPublic:
    """The pre-approval with its `status` (an approval past its expiry reads `expired`)."""
    preapproval = await preapproval_service.get_for_buyer(session, buyer.uid, preapproval_id)
    offers = await preapproval_repository.offers(session, preapproval.id)
    return preapproval_public(
        preapproval, offers, preapproval_service.effective_status(preapproval, utcnow())
    )


class PreapprovalQr(ResponseModel):
    """The approval as a QR code for the dealer: a link to the dealer portal with the code
    filled in (the dealer still asks for the last four digits of the buyer's phone)."""

    code: str
    url: str
    qr_svg: str = Field(description="The URL as a QR code, a data:image/svg+xml URI.")


@router.get(
    "/preapprovals/{preapproval_id}/qr",
    responses=error_responses(preapproval_exceptions.PreapprovalNotFound),
)
async def preapproval_qr(
    preapproval_id: uuid.UUID, request: Request, buyer: BuyerPrincipal, session: SessionDep
) -> PreapprovalQr:
    preapproval = await preapproval_service.get_for_buyer(session, buyer.uid, preapproval_id)
    url = f"{str(request.base_url).rstrip('/')}/dealer#code={preapproval.code}"
    return PreapprovalQr(code=preapproval.code, url=url, qr_svg=svg_data_uri(url))


@router.post(
    "/preapprovals/{preapproval_id}/quotes",
    responses=error_responses(
        preapproval_exceptions.PreapprovalNotFound,
        preapproval_exceptions.PreapprovalUnavailable,
        UnknownBrand,
    ),
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
    preapproval = await preapproval_service.get_for_buyer(session, buyer.uid, preapproval_id)
    brand = await brand_service.resolve(session, body.brand, field="brand") if body.brand else None
    deal = Deal(  # a PricingInputError: 422 naming the field (refusals.invalid_input)
        car_price=body.car_price,
        down_payment=body.down_payment,
        term_months=body.term_months,
        vehicle_type=body.vehicle_type,  # type: ignore[arg-type]  # Deal validates it
        brand=brand,
    )
    quote = await preapproval_service.quote(session, preapproval, deal, utcnow(), policy)
    figures = await refusals.rejection_params(session, [r for _, r in quote.not_offered])
    return QuoteResponse(
        offers=[
            OfferPublic.model_validate(preapproval_service.offer_details(offer_id, offer))
            for offer_id, offer in quote.offers
        ],
        not_offered=[
            ProductNotOffered(
                offer_id=locked.id,
                lender=str(locked.details["lender"]),
                product=str(locked.details["product"]),
                code=rejection.code,
                message=refusals.rejection_message(rejection, figures[rejection]),
                field=rejection.field,
            )
            for locked, rejection in quote.not_offered
        ],
        grade=None if quote.grade is None else car_grade_public(quote.grade),
    )


@router.post(
    "/preapprovals/{preapproval_id}/cancel",
    responses=error_responses(
        preapproval_exceptions.PreapprovalNotFound, preapproval_exceptions.PreapprovalUnavailable
    ),
)
async def cancel_preapproval(
    preapproval_id: uuid.UUID, buyer: BuyerPrincipal, session: SessionDep
) -> PreapprovalPublic:
    """Give up an active pre-approval (to apply again, say)."""
    preapproval = await preapproval_service.get_for_buyer(session, buyer.uid, preapproval_id)
    cancelled = await preapproval_service.cancel(session, buyer, preapproval, utcnow())
    offers = await preapproval_repository.offers(session, cancelled.id)
    return preapproval_public(cancelled, offers, cancelled.status)


@router.get("/messages", responses=error_responses(advisor_service.NoAdvisorYet))
async def read_messages(
    buyer: BuyerPrincipal, session: SessionDep, page: PageDep
) -> Page[MessagePublic]:
    """The conversation with the buyer's advisor, oldest first."""
    await advisor_service.buyer_advisor(session, buyer)
    rows, total = await advisor_repository.messages(
        session, buyer.uid, limit=page.limit, offset=page.offset
    )
    return Page(
        items=[MessagePublic.model_validate(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post(
    "/messages",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(advisor_service.NoAdvisorYet),
)
async def message_advisor(
    body: MessageCreate, buyer: BuyerPrincipal, session: SessionDep
) -> MessagePublic:
    advisor_id = await advisor_service.buyer_advisor(session, buyer)
    message = await advisor_service.send(
        session, buyer_id=buyer.uid, advisor_id=advisor_id, sender="buyer", body=body.body
    )
    return MessagePublic.model_validate(message)
