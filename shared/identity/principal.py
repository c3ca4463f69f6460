"""Who is calling: one dependency resolves a bearer token or an API key to a principal.

Every router takes one of the role dependencies below; tenancy (which organisation, which
buyer) comes from the principal, never from the request body.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import ReadSessionDep, SessionDep
from shared.errors import Forbidden, Unauthorized
from shared.identity import repository
from shared.identity.exceptions import InvalidCredentials
from shared.identity.models import (
    OrganizationKind,
    OrganizationStatus,
    UserKind,
)
from shared.identity.security import API_KEY_PREFIX, hash_api_key, read_access_token
from shared.settings import get_settings

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token",
    auto_error=False,
    description="A user's access token from /v1/auth/token, or an organisation API key (afk_…).",
)


@dataclass(frozen=True)
class Principal:
    """The caller: a user, or an organisation acting through an API key."""

    role: str  # buyer | advisor | admin | lender | dealer
    user_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        if self.api_key_id:
            return f"api_key:{self.api_key_id}"
        return f"user:{self.user_id}"

    @property
    def org_id(self) -> uuid.UUID:
        """The caller's organisation; only for lender and dealer principals."""
        if self.organization_id is None:
            raise Forbidden()
        return self.organization_id

    @property
    def uid(self) -> uuid.UUID:
        """The calling user's id; only for user principals."""
        if self.user_id is None:
            raise Forbidden(
                "This action needs a personal login, not an API key.", variant="personal_login"
            )
        return self.user_id


async def _principal_for_api_key(session: AsyncSession, key: str) -> Principal:
    row = await repository.api_key_owner(session, hash_api_key(key))
    if row is None:
        raise InvalidCredentials()
    key_id, org_id, org_kind, org_status = row
    if org_status != OrganizationStatus.active:
        raise Forbidden(code="organization_suspended")
    return Principal(role=str(org_kind), organization_id=org_id, api_key_id=key_id)


async def _principal_for_user(session: AsyncSession, user_id: uuid.UUID) -> Principal:
    row = await repository.user_standing(session, user_id)
    if row is None or not row[1]:
        raise InvalidCredentials()
    kind, _, org_id, org_kind, org_status = row
    if kind != UserKind.staff:
        return Principal(role=str(kind), user_id=user_id)
    if org_id is None:
        raise Forbidden("This staff login belongs to no organisation.", variant="no_organization")
    if org_status != OrganizationStatus.active:
        raise Forbidden(code="organization_suspended")
    return Principal(role=str(org_kind), user_id=user_id, organization_id=org_id)


async def current_principal(
    session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """Resolve the bearer credential (JWT or API key) to a principal, or answer 401."""
    return await _principal(session, token)


async def current_principal_reading(
    session: ReadSessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """``current_principal`` for a route that only reads: resolved with the route's own
    read-only session (a request holds one session)."""
    return await _principal(session, token)


async def _principal(session: AsyncSession, token: str | None) -> Principal:
    if not token:
        raise Unauthorized(code="not_authenticated")
    if token.startswith(API_KEY_PREFIX):
        return await _principal_for_api_key(session, token)
    user_id = read_access_token(token, master_secret=get_settings().resolved_secret_key())
    if user_id is None:
        raise InvalidCredentials()
    return await _principal_for_user(session, user_id)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: str, read_only: bool = False) -> object:
    """A dependency that lets through only principals with one of these roles; with
    ``read_only``, for routes that take ``ReadSessionDep`` instead of ``SessionDep``."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise Forbidden()
        return principal

    async def reading(
        principal: Annotated[Principal, Depends(current_principal_reading)],
    ) -> Principal:
        return await dependency(principal)

    return Depends(reading if read_only else dependency)


BuyerPrincipal = Annotated[Principal, require_role("buyer")]
ReadOnlyBuyerPrincipal = Annotated[Principal, require_role("buyer", read_only=True)]
AdvisorPrincipal = Annotated[Principal, require_role("advisor")]
AdminPrincipal = Annotated[Principal, require_role("admin")]
LenderPrincipal = Annotated[Principal, require_role(OrganizationKind.lender.value)]
DealerPrincipal = Annotated[Principal, require_role(OrganizationKind.dealer.value)]
ReadOnlyLenderPrincipal = Annotated[
    Principal, require_role(OrganizationKind.lender.value, read_only=True)
]
ReadOnlyDealerPrincipal = Annotated[
    Principal, require_role(OrganizationKind.dealer.value, read_only=True)
]
