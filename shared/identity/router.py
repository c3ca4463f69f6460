"""Routes for logging in and for the platform admin's onboarding of organisations and staff."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, status
from fastapi.security import OAuth2PasswordRequestForm

from shared.brands.exceptions import UnknownBrand
from shared.db import SessionDep, utcnow
from shared.errors import NotFound, TooManyRequests, error_responses
from shared.identity import codes, exceptions, service
from shared.identity.models import OrganizationKind, OrganizationStatus
from shared.identity.principal import AdminPrincipal, CurrentPrincipal
from shared.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    DealerCreate,
    DevSmsPublic,
    DevSmsRequest,
    LenderCreate,
    MemberCreate,
    MemberPublic,
    OrganizationPublic,
    PhoneToken,
    RegisterBuyer,
    SmsCodeRequest,
    Token,
    UserPublic,
)
from shared.identity.security import issue_access_token
from shared.identity.sms import SandboxSms, SmsGatewayDep
from shared.pagination import Page, PageDep
from shared.settings import get_settings
from shared.text import TEXT_PATTERN

auth_router = APIRouter(prefix="/v1/auth", tags=["auth"])
# Development helpers; every route answers 404 in production.
dev_router = APIRouter(prefix="/v1/dev", tags=["development"], include_in_schema=False)
admin_router = APIRouter(prefix="/v1/admin", tags=["admin"])


@auth_router.post(
    "/sms-codes",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(TooManyRequests),
)
async def send_sms_code(
    body: SmsCodeRequest, session: SessionDep, gateway: SmsGatewayDep
) -> dict[str, str]:
    """Text a one-time code to the phone, for `register`, `login` or `sign`.

    One code per phone and purpose a minute (else 429 with `Retry-After`); a code is valid five
    minutes and once, and a newer one replaces it. The answer is the same whether or not an
    account holds the phone."""
    await codes.issue(session, gateway, phone=body.phone, purpose=body.purpose, now=utcnow())
    return {"status": "sent"}


@auth_router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        exceptions.EmailTaken, exceptions.PhoneTaken, exceptions.SmsCodeInvalid, TooManyRequests
    ),
)
async def register(body: RegisterBuyer, session: SessionDep) -> UserPublic:
    """Create a buyer account; the phone is proven by a `register` code. One account per phone."""
    user = await service.register_buyer(
        session,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
        phone=body.phone,
        sms_code=body.sms_code,
        now=utcnow(),
    )
    return UserPublic.model_validate(user)


@auth_router.post(
    "/phone-token",
    responses=error_responses(exceptions.WrongPhoneCredentials, TooManyRequests),
)
async def phone_token(body: PhoneToken, session: SessionDep) -> Token:
    """Log a buyer in with their phone and a `login` code."""
    user = await service.authenticate_phone(
        session, phone=body.phone, sms_code=body.sms_code, now=utcnow()
    )
    return _token_for(user.id)


@dev_router.post("/sms", responses={404: {"description": "not in production"}})
async def sandbox_sms(body: DevSmsRequest, gateway: SmsGatewayDep) -> list[DevSmsPublic]:
    """Development only: the codes the sandbox gateway kept for the phone, newest first."""
    if get_settings().is_production or not isinstance(gateway, SandboxSms):
        raise NotFound("No such resource.")
    return [DevSmsPublic.model_validate(sent) for sent in gateway.sent_to(body.phone)]


class PasswordForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form, with the text rule and lengths every input has (a NUL in
    the username reached PostgreSQL and was a 500)."""

    def __init__(
        self,
        *,
        username: Annotated[str, Form(min_length=1, max_length=254, pattern=TEXT_PATTERN)],
        password: Annotated[str, Form(min_length=1, max_length=128, pattern=TEXT_PATTERN)],
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        scope: Annotated[str, Form(max_length=200, pattern=TEXT_PATTERN)] = "",
        client_id: Annotated[str | None, Form(max_length=200, pattern=TEXT_PATTERN)] = None,
        client_secret: Annotated[str | None, Form(max_length=200, pattern=TEXT_PATTERN)] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


@auth_router.post("/token", responses=error_responses(exceptions.WrongCredentials, TooManyRequests))
async def token(form: Annotated[PasswordForm, Depends()], session: SessionDep) -> Token:
    """OAuth2 password flow: the email as `username`, and the password."""
    user = await service.authenticate(session, form.username, form.password)
    return _token_for(user.id)


def _token_for(user_id: uuid.UUID) -> Token:
    settings = get_settings()
    access_token = issue_access_token(
        user_id, master_secret=settings.resolved_secret_key(), minutes=settings.access_token_minutes
    )
    return Token(access_token=access_token, expires_in=settings.access_token_minutes * 60)


@auth_router.get("/me")
async def me(principal: CurrentPrincipal) -> dict[str, str | None]:
    """Who the credentials belong to: role and organisation."""
    return {
        "role": principal.role,
        "user_id": str(principal.user_id) if principal.user_id else None,
        "organization_id": str(principal.organization_id) if principal.organization_id else None,
    }


@admin_router.post(
    "/lenders", status_code=status.HTTP_201_CREATED, responses=error_responses(exceptions.UsccTaken)
)
async def create_lender(
    body: LenderCreate, admin: AdminPrincipal, session: SessionDep
) -> OrganizationPublic:
    lender = await service.create_organization(
        session, admin, kind=OrganizationKind.lender, name=body.name, uscc=body.uscc
    )
    return OrganizationPublic.model_validate(lender)


@admin_router.post(
    "/dealers",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(exceptions.UsccTaken, UnknownBrand),
)
async def create_dealer(
    body: DealerCreate, admin: AdminPrincipal, session: SessionDep
) -> OrganizationPublic:
    dealer = await service.create_organization(
        session,
        admin,
        kind=OrganizationKind.dealer,
        name=body.name,
        uscc=body.uscc,
        city=body.city,
        brands=body.brands,
    )
    return OrganizationPublic.model_validate(dealer)


@admin_router.get("/organizations")
async def list_organizations(
    admin: AdminPrincipal,
    session: SessionDep,
    page: PageDep,
    kind: Annotated[OrganizationKind | None, Query()] = None,
) -> Page[OrganizationPublic]:
    rows, total = await service.organizations(
        session, kind=kind, limit=page.limit, offset=page.offset
    )
    items = [OrganizationPublic.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@admin_router.get(
    "/organizations/{organization_id}", responses=error_responses(exceptions.OrganizationNotFound)
)
async def get_organization(
    organization_id: uuid.UUID, admin: AdminPrincipal, session: SessionDep
) -> OrganizationPublic:
    return OrganizationPublic.model_validate(
        await service.get_organization(session, organization_id)
    )


@admin_router.post(
    "/organizations/{organization_id}/suspend",
    responses=error_responses(exceptions.OrganizationNotFound),
)
async def suspend_organization(
    organization_id: uuid.UUID, admin: AdminPrincipal, session: SessionDep
) -> OrganizationPublic:
    """Suspend a lender or dealer: its logins and keys stop working, its products stop matching."""
    organization = await service.set_organization_status(
        session, admin, organization_id, OrganizationStatus.suspended
    )
    return OrganizationPublic.model_validate(organization)


@admin_router.post(
    "/organizations/{organization_id}/reactivate",
    responses=error_responses(exceptions.OrganizationNotFound),
)
async def reactivate_organization(
    organization_id: uuid.UUID, admin: AdminPrincipal, session: SessionDep
) -> OrganizationPublic:
    organization = await service.set_organization_status(
        session, admin, organization_id, OrganizationStatus.active
    )
    return OrganizationPublic.model_validate(organization)


@admin_router.post(
    "/organizations/{organization_id}/members",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(exceptions.OrganizationNotFound, exceptions.EmailTaken),
)
async def add_member(
    organization_id: uuid.UUID, body: MemberCreate, admin: AdminPrincipal, session: SessionDep
) -> MemberPublic:
    """Create a staff login for a lender or dealer."""
    user, membership = await service.add_member(
        session,
        admin,
        organization_id,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
        role=body.role,
    )
    return MemberPublic(
        user_id=user.id,
        organization_id=membership.organization_id,
        email=user.email,
        full_name=user.full_name,
        role=membership.role,
    )


@admin_router.get(
    "/organizations/{organization_id}/members",
    responses=error_responses(exceptions.OrganizationNotFound),
)
async def list_members(
    organization_id: uuid.UUID, admin: AdminPrincipal, session: SessionDep, page: PageDep
) -> Page[MemberPublic]:
    """The organisation's staff logins, oldest first."""
    rows, total = await service.organization_members(
        session, organization_id, limit=page.limit, offset=page.offset
    )
    items = [
        MemberPublic(
            user_id=user.id,
            organization_id=membership.organization_id,
            email=user.email,
            full_name=user.full_name,
            role=membership.role,
        )
        for user, membership in rows
    ]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@admin_router.post(
    "/organizations/{organization_id}/api-keys",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(exceptions.OrganizationNotFound),
)
async def issue_api_key(
    organization_id: uuid.UUID,
    admin: AdminPrincipal,
    session: SessionDep,
    body: ApiKeyCreate | None = None,
) -> ApiKeyCreated:
    """Issue an API key for the organisation. The key is shown in this answer only."""
    api_key, key = await service.issue_api_key(
        session, admin, organization_id, name=(body or ApiKeyCreate()).name
    )
    return ApiKeyCreated(**ApiKeyPublic.model_validate(api_key).model_dump(), key=key)


@admin_router.get(
    "/organizations/{organization_id}/api-keys",
    responses=error_responses(exceptions.OrganizationNotFound),
)
async def list_api_keys(
    organization_id: uuid.UUID, admin: AdminPrincipal, session: SessionDep
) -> list[ApiKeyPublic]:
    return [
        ApiKeyPublic.model_validate(k)
        for k in await service.organization_api_keys(session, organization_id)
    ]


@admin_router.delete(
    "/organizations/{organization_id}/api-keys/{key_id}",
    responses=error_responses(exceptions.ApiKeyNotFound),
)
async def revoke_api_key(
    organization_id: uuid.UUID, key_id: uuid.UUID, admin: AdminPrincipal, session: SessionDep
) -> ApiKeyPublic:
    """Revoke a key: it stops working at once."""
    return ApiKeyPublic.model_validate(
        await service.revoke_api_key(session, admin, organization_id, key_id)
    )
