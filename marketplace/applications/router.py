"""Buyer routes on applications: apply, see the decisions, retry a bureau pull, and the
consents given with them (pre-approvals and the advisor's messages have their own domains'
routers)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from marketplace.applications import consents, exceptions
from marketplace.applications import service as application_service
from marketplace.applications.bureau import BureauDep
from marketplace.applications.identity_check import IdentityVerifierDep
from marketplace.applications.schemas import ApplicationCreate, ApplicationPublic, ConsentPublic
from marketplace.applications.views import application_views, buyer_applications
from marketplace.policy import PolicyDep
from marketplace.scorecards.dependencies import ActiveModelsDep
from shared.db import SessionDep, utcnow
from shared.errors import TooManyRequests, error_responses
from shared.identity.principal import BuyerPrincipal
from shared.pagination import Page, PageDep

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
    decided = await application_service.submit(
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
    return (await application_views(session, [decided.application], fresh=decided.fresh()))[0]


@router.get("/applications")
async def list_applications(
    buyer: BuyerPrincipal, session: SessionDep, page: PageDep
) -> Page[ApplicationPublic]:
    items, total = await buyer_applications(
        session, buyer.uid, limit=page.limit, offset=page.offset
    )
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
    decided = await application_service.retry(
        session, buyer, application_id, bureau, utcnow(), models=models, policy=policy
    )
    return (await application_views(session, [decided.application], fresh=decided.fresh()))[0]


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
