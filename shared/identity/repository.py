"""SQL for identities and organisations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, bindparam, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared import pii
from shared.db import utcnow
from shared.identity.models import (
    ApiKey,
    Membership,
    Organization,
    OrganizationKind,
    OrganizationStatus,
    SmsCode,
    SmsPurpose,
    User,
    UserKind,
)
from shared.pagination import paginate

# Every request authenticates with one of these two statements: built once, so a request only
# binds its value (no statement construction or cache-key walk per request).
_API_KEY_OWNER = (
    select(
        col(ApiKey.id),
        col(Organization.id),
        col(Organization.kind),
        col(Organization.status),
    )
    .join(Organization, col(Organization.id) == col(ApiKey.organization_id))
    .where(col(ApiKey.key_hash) == bindparam("key_hash"), col(ApiKey.revoked_at).is_(None))
)
_USER_STANDING = (
    select(
        col(User.kind),
        col(User.is_active),
        col(Membership.organization_id),
        col(Organization.kind),
        col(Organization.status),
    )
    .outerjoin(Membership, col(Membership.user_id) == col(User.id))
    .outerjoin(Organization, col(Organization.id) == col(Membership.organization_id))
    .where(col(User.id) == bindparam("user_id"))
)


async def api_key_owner(
    session: AsyncSession, key_hash: str
) -> Row[uuid.UUID, uuid.UUID, OrganizationKind, OrganizationStatus] | None:
    """The live API key with this hash: its id and its organisation's id, kind and status."""
    result = await session.execute(_API_KEY_OWNER, {"key_hash": key_hash})
    return result.first()


async def user_standing(
    session: AsyncSession, user_id: uuid.UUID
) -> Row[UserKind, bool, uuid.UUID, OrganizationKind, OrganizationStatus] | None:
    """The user's kind and whether it is active, with its organisation's id, kind and status
    (None for a user of no organisation)."""
    result = await session.execute(_USER_STANDING, {"user_id": user_id})
    return result.first()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(col(User.email) == email.lower()))
    return result.scalar_one_or_none()


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    statement = select(User).where(col(User.id) == user_id)
    return (
        await session.execute(statement.execution_options(populate_existing=True))
    ).scalar_one_or_none()


async def user_by_phone(session: AsyncSession, phone: str) -> User | None:
    """The account holding this phone (found by its keyed hash; one account per phone)."""
    statement = select(User).where(col(User.phone_hash) == pii.lookup_hash(phone))
    return (await session.execute(statement)).scalar_one_or_none()


async def user_by_person(session: AsyncSession, person_hash: str) -> User | None:
    statement = select(User).where(col(User.person_hash) == person_hash)
    return (await session.execute(statement)).scalar_one_or_none()


# Built once, bound per call (building it cost more CPU than sending it). Its parameters are
# named after no users column, which an UPDATE would take as one more column to SET. The
# account comes back with it, so the session's copy holds the binding as the statement built
# per call kept it (an ORM UPDATE cannot evaluate bound parameters in Python).
_BIND_PERSON = (
    update(User)
    .where(
        col(User.id) == bindparam("b_user_id"),
        or_(col(User.person_hash).is_(None), col(User.person_hash) == bindparam("b_person_hash")),
    )
    .values(person_hash=bindparam("b_person_hash"), identity_verified_at=bindparam("b_now"))
    .returning(User)
    .execution_options(synchronize_session=False, populate_existing=True)
)


async def bind_person(
    session: AsyncSession, user_id: uuid.UUID, person_hash: str, now: datetime
) -> bool:
    """Bind the account to this person for good; False when it is bound to someone else or
    the person to another account (the unique constraint decides a race).

    It opens its transaction, so a lost race rolls back that transaction alone, with nothing
    else in it: one statement, where a savepoint around it would cost two more round trips."""
    if session.in_transaction():
        raise RuntimeError("bind_person opens its own transaction; commit before calling it")
    parameters = {"b_user_id": user_id, "b_person_hash": person_hash, "b_now": now}
    try:
        result = await session.execute(_BIND_PERSON, parameters)
    except IntegrityError:
        await session.rollback()
        return False
    return result.scalar_one_or_none() is not None


async def set_credentials(
    session: AsyncSession, user_id: uuid.UUID, *, email: str, password_hash: str
) -> bool:
    """Give a passwordless account its email and password; False if it already has one."""
    result = await session.execute(
        update(User)
        .where(col(User.id) == user_id, col(User.password_hash).is_(None))
        .values(email=email, password_hash=password_hash)
        .returning(col(User.id))
    )
    return result.scalar_one_or_none() is not None


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
    statement = statement.order_by(col(Organization.created_at), col(Organization.id))
    return await paginate(session, statement, limit=limit, offset=offset)


async def list_members(
    session: AsyncSession, organization_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[tuple[User, Membership]], int]:
    """The organisation's staff logins, oldest first."""
    statement = (
        select(User, Membership)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(col(Membership.organization_id) == organization_id)
        .order_by(col(Membership.created_at), col(User.id))
    )
    return await paginate(session, statement, limit=limit, offset=offset)


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


# -- one-time SMS codes (``codes``) ----------------------------------------------------------


async def retire_live_codes(
    session: AsyncSession, phone_hash: str, purpose: SmsPurpose, now: datetime
) -> None:
    """Mark every unused code for this phone and purpose used, so only a newer one works."""
    await session.execute(
        update(SmsCode)
        .where(
            col(SmsCode.phone_hash) == phone_hash,
            col(SmsCode.purpose) == purpose,
            col(SmsCode.used_at).is_(None),
        )
        .values(used_at=now)
    )


async def use_live_code(
    session: AsyncSession, phone_hash: str, purpose: SmsPurpose, code_hash: str, now: datetime
) -> bool:
    """Use the unexpired, unused code with this hash for this phone and purpose, once; False
    when there is none."""
    used = await session.execute(
        update(SmsCode)
        .where(
            col(SmsCode.phone_hash) == phone_hash,
            col(SmsCode.purpose) == purpose,
            col(SmsCode.code_hash) == code_hash,
            col(SmsCode.used_at).is_(None),
            col(SmsCode.expires_at) > now,
        )
        .values(used_at=now)
        .returning(col(SmsCode.id))
    )
    return used.scalar_one_or_none() is not None


async def purge_expired_codes(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete codes that expired before ``older_than``; how many."""
    result = await session.execute(
        delete(SmsCode).where(col(SmsCode.expires_at) < older_than).returning(col(SmsCode.id))
    )
    return len(result.all())
