"""SQL for identities and organisations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.db import utcnow
from shared.identity.models import ApiKey, Organization, OrganizationKind, User


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(col(User.email) == email.lower()))
    return result.scalar_one_or_none()


async def get_organization(
    session: AsyncSession, organization_id: uuid.UUID, *, for_update: bool = False
) -> Organization | None:
    statement = select(Organization).where(col(Organization.id) == organization_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def list_organizations(
    session: AsyncSession, *, kind: OrganizationKind | None, limit: int, offset: int
) -> tuple[Sequence[Organization], int]:
    statement = select(Organization)
    if kind is not None:
        statement = statement.where(col(Organization.kind) == kind)
    total = (
        await session.execute(select(func.count()).select_from(statement.subquery()))
    ).scalar_one()
    rows = await session.execute(
        statement.order_by(col(Organization.created_at), col(Organization.id))
        .limit(limit)
        .offset(offset)
    )
    return rows.scalars().all(), total


async def list_api_keys(session: AsyncSession, organization_id: uuid.UUID) -> Sequence[ApiKey]:
    rows = await session.execute(
        select(ApiKey)
        .where(col(ApiKey.organization_id) == organization_id)
        .order_by(col(ApiKey.created_at))
    )
    return rows.scalars().all()


async def revoke_api_key(
    session: AsyncSession, organization_id: uuid.UUID, key_id: uuid.UUID
) -> ApiKey | None:
    """Revoke a live key of this organisation; None when there is no such live key."""
    result = await session.execute(
        update(ApiKey)
        .where(
            col(ApiKey.id) == key_id,
            col(ApiKey.organization_id) == organization_id,
            col(ApiKey.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
        .returning(ApiKey)
    )
    return result.scalar_one_or_none()
