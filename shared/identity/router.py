"""Routes for logging in and for the platform admin's onboarding of organisations and staff."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.security import OAuth2PasswordRequestForm

from shared import audit
from shared.brands.exceptions import UnknownBrand
from shared.db import SessionDep
from shared.errors import error_responses
from shared.identity import repository, service
from shared.identity.models import OrganizationKind, OrganizationStatus, UserKind
from shared.identity.principal import AdminPrincipal, CurrentPrincipal
from shared.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    DealerCreate,
    LenderCreate,
    MemberCreate,
    MemberPublic,
    OrganizationPublic,
    RegisterBuyer,
    Token,
    UserPublic,
)
from shared.identity.security import issue_access_token
from shared.pagination import Page, PageDep
from shared.settings import get_settings

auth_router = APIRouter(prefix="/v1/auth", tags=["auth"])
admin_router = APIRouter(prefix="/v1/admin", tags=["admin"])


@auth_router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(service.EmailTaken),
)
async def register(body: RegisterBuyer, session: SessionDep) -> UserPublic:
    """Create a buyer account."""
    user = await service.create_user(
        session,
        kind=UserKind.buyer,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
        phone=body.phone,
    )
    audit.record(
        session,
        actor=f"user:{user.id}",
        action="buyer.registered",
        subject_type="user",
        subject_id=user.id,
    )
    return UserPublic.model_validate(user)


@auth_router.post("/token", responses=error_responses(service.WrongCredentials))
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep
) -> Token:
    """OAuth2 password flow: the email as `username`, and the password."""
    user = await service.authenticate(session, form.username, form.password)
    settings = get_settings()
    access_token = issue_access_token(
        user.id, master_secret=settings.resolved_secret_key(), minutes=settings.access_token_minutes
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
    "/lenders", status_code=status.HTTP_201_CREATED, responses=error_responses(service.UsccTaken)
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
    responses=error_responses(service.UsccTaken, UnknownBrand),
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
    rows, total = await repository.list_organizations(
        session, kind=kind, limit=page.limit, offset=page.offset
    )
    items = [OrganizationPublic.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@admin_router.get(
    "/organizations/{organization_id}", responses=error_responses(service.OrganizationNotFound)
)
async def get_organization(
    organization_id: uuid.UUID, admin: AdminPrincipal, session: SessionDep
) -> OrganizationPublic:
    return OrganizationPublic.model_validate(
        await service.get_organization(session, organization_id)
    )


@admin_router.post(
    "/organizations/{organization_id}/suspend",
    responses=error_responses(service.OrganizationNotFound),
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
    responses=error_responses(service.OrganizationNotFound),
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
    responses=error_responses(service.OrganizationNotFound, service.EmailTaken),
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


@admin_router.post(
    "/organizations/{organization_id}/api-keys",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(service.OrganizationNotFound),
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
    responses=error_responses(service.OrganizationNotFound),
)
async def list_api_keys(
    organization_id: uuid.UUID, admin: AdminPrincipal, session: SessionDep
) -> list[ApiKeyPublic]:
    organization = await service.get_organization(session, organization_id)
    return [
        ApiKeyPublic.model_validate(k)
        for k in await repository.list_api_keys(session, organization.id)
    ]


@admin_router.delete(
    "/organizations/{organization_id}/api-keys/{key_id}",
    responses=error_responses(service.ApiKeyNotFound),
)
async def revoke_api_key(
    organization_id: uuid.UUID, key_id: uuid.UUID, admin: AdminPrincipal, session: SessionDep
) -> ApiKeyPublic:
    """Revoke a key: it stops working at once."""
    return ApiKeyPublic.model_validate(
        await service.revoke_api_key(session, admin, organization_id, key_id)
    )
