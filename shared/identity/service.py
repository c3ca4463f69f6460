"""Identity rules: registering buyers, logging in, onboarding organisations and their staff."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit, pii, ratelimit
from shared.brands import service as brand_service
from shared.identity import codes, repository
from shared.identity.exceptions import (
    ApiKeyNotFound,
    EmailTaken,
    OrganizationNotFound,
    PhoneTaken,
    SmsCodeInvalid,
    UsccTaken,
    WrongCredentials,
    WrongPhoneCredentials,
)
from shared.identity.models import (
    ApiKey,
    MemberRole,
    Membership,
    Organization,
    OrganizationKind,
    OrganizationStatus,
    SmsPurpose,
    User,
    UserKind,
)
from shared.identity.principal import Principal
from shared.identity.security import hash_password, new_api_key, verify_password
from shared.writes import insert_unique

# Guessing: an account's password, and registering with an email (which says whether it is
# taken), each allow this many failures per window before 429 with ``Retry-After``. Keyed by
# the account (the email's keyed hash), never by the client's address.
LOGIN_FAILURES_PER_ACCOUNT = 10
REGISTRATION_FAILURES_PER_EMAIL = 5
GUESS_WINDOW = timedelta(minutes=15)


def _account_key(kind: str, email: str) -> str:
    return f"{kind}:{pii.lookup_hash(email.strip().lower())}"


async def create_user(
    session: AsyncSession,
    *,
    kind: UserKind,
    email: str,
    password: str | None,
    full_name: str,
    phone: str | None = None,
) -> User:
    """A new login; EmailTaken or PhoneTaken when the email or the phone is in use (checked by
    the unique constraints). The phone is stored encrypted, with a keyed hash to find it."""
    user = User(
        kind=kind,
        email=email.lower(),
        password_hash=await hash_password(password) if password else None,
        full_name=full_name,
        phone_encrypted=pii.encrypt(phone) if phone else None,
        phone_hash=pii.lookup_hash(phone) if phone else None,
    )
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError as error:
        if "phone_hash" in str(error.orig):
            raise PhoneTaken(field="phone") from None
        raise EmailTaken(field="email") from None
    return user


async def register_buyer(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    full_name: str,
    phone: str,
    sms_code: str,
    now: datetime,
) -> User:
    """A buyer account whose phone was just proven by a registration code (used once).

    A passwordless account a dealer opened for this phone at a walk-in becomes the registrant's:
    proving the phone is what claiming it needs, and one phone holds one account."""
    by_email = await ratelimit.reserve(
        session,
        _account_key("register", email),
        limit=REGISTRATION_FAILURES_PER_EMAIL,
        window=GUESS_WINDOW,
        variant="register",
    )
    reservation = await codes.redeem(
        session, phone=phone, purpose=SmsPurpose.register, code=sms_code, now=now
    )
    existing = await repository.user_by_phone(session, phone)
    if existing is not None and existing.kind == UserKind.buyer and existing.password_hash is None:
        user = await _claim_passwordless(
            session, existing, email=email, password=password, full_name=full_name
        )
        action = "buyer.registered_walk_in_account"
    else:
        user = await create_user(
            session,
            kind=UserKind.buyer,
            email=email,
            password=password,
            full_name=full_name,
            phone=phone,
        )
        action = "buyer.registered"
    audit.record(
        session, actor=f"user:{user.id}", action=action, subject_type="user", subject_id=user.id
    )
    await reservation.release(session)  # commits the account with the code's use
    await by_email.release(session)
    return user


async def authenticate_phone(
    session: AsyncSession, *, phone: str, sms_code: str, now: datetime
) -> User:
    """The buyer account holding ``phone``, proven by a login code; never says which failed."""
    try:
        reservation = await codes.redeem(
            session, phone=phone, purpose=SmsPurpose.login, code=sms_code, now=now
        )
    except SmsCodeInvalid:
        raise WrongPhoneCredentials() from None
    user = await repository.user_by_phone(session, phone)
    if user is None or not user.is_active or user.kind != UserKind.buyer:
        raise WrongPhoneCredentials()
    await reservation.release(session)
    return user


async def _claim_passwordless(
    session: AsyncSession, user: User, *, email: str, password: str, full_name: str
) -> User:
    password_hash = await hash_password(password)
    try:
        async with session.begin_nested():
            claimed = await repository.set_credentials(
                session, user.id, email=email.lower(), password_hash=password_hash
            )
    except IntegrityError:
        raise EmailTaken(field="email") from None
    if not claimed:  # claimed a moment ago by someone proving the same phone
        raise PhoneTaken(field="phone")
    await session.refresh(user)
    if user.person_hash is None:  # a verified name stays; an unverified one is the registrant's
        user.full_name = full_name
        await session.flush()
    return user


def phone_of(user: User) -> str | None:
    """The account's phone in clear, for the one use that needs it right now."""
    return pii.decrypt(user.phone_encrypted) if user.phone_encrypted else None


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    """The account with this email and password; WrongCredentials, or TooManyRequests once
    the account has had ``LOGIN_FAILURES_PER_ACCOUNT`` wrong passwords in the window (each
    guess counted before it is compared, so racing guesses cannot slip past). Commits."""
    reservation = await ratelimit.reserve(
        session,
        _account_key("login", email),
        limit=LOGIN_FAILURES_PER_ACCOUNT,
        window=GUESS_WINDOW,
        variant="login",
    )
    user = await repository.user_by_email(session, email)
    matches = await verify_password(password, user.password_hash if user else None)
    if user is None or not matches or not user.is_active:
        raise WrongCredentials()  # the reserved failure stays counted
    await reservation.release(session)
    return user


async def create_or_reset_admin(session: AsyncSession, *, email: str, password: str) -> User:
    """The CLI's `admin create`: a platform admin with this password, created or reset."""
    user = await repository.user_by_email(session, email)
    if user is None:
        user = await create_user(
            session, kind=UserKind.admin, email=email, password=password, full_name="Platform admin"
        )
        action = "admin.created"
    else:
        user.kind = UserKind.admin
        user.is_active = True
        user.password_hash = await hash_password(password)
        action = "admin.password_reset"
    audit.record(
        session, actor=audit.SYSTEM_ACTOR, action=action, subject_type="user", subject_id=user.id
    )
    await session.flush()
    return user


async def create_organization(
    session: AsyncSession,
    actor: Principal | str,
    *,
    kind: OrganizationKind,
    name: str,
    uscc: str,
    city: str | None = None,
    brands: Sequence[str] = (),
) -> Organization:
    brand_ids = await brand_service.resolve_many(session, brands, field="brands") if brands else []
    organization = Organization(kind=kind, name=name, uscc=uscc, city=city, brands=brand_ids)
    if not await insert_unique(session, organization):
        raise UsccTaken(field="uscc")
    audit.record(
        session,
        actor=actor,
        action=f"{kind.value}.created",
        subject_type="organization",
        subject_id=organization.id,
        after={"kind": kind.value, "name": name, "uscc": uscc},
    )
    return organization


async def get_organization(session: AsyncSession, organization_id: uuid.UUID) -> Organization:
    organization = await repository.get_organization(session, organization_id)
    if organization is None:
        raise OrganizationNotFound()
    return organization


async def organizations(
    session: AsyncSession, *, kind: OrganizationKind | None, limit: int, offset: int
) -> tuple[Sequence[Organization], int]:
    """A page of the organisations (of one kind, when given), and their number."""
    return await repository.list_organizations(session, kind=kind, limit=limit, offset=offset)


async def organization_members(
    session: AsyncSession, organization_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[tuple[User, Membership]], int]:
    """A page of the organisation's staff logins, oldest first, and their number."""
    organization = await get_organization(session, organization_id)
    return await repository.list_members(session, organization.id, limit=limit, offset=offset)


async def organization_api_keys(
    session: AsyncSession, organization_id: uuid.UUID
) -> Sequence[ApiKey]:
    """The organisation's API keys, revoked ones included."""
    organization = await get_organization(session, organization_id)
    return await repository.list_api_keys(session, organization.id)


async def set_organization_status(
    session: AsyncSession, actor: Principal, organization_id: uuid.UUID, status: OrganizationStatus
) -> Organization:
    organization = await repository.get_organization(session, organization_id, for_update=True)
    if organization is None:
        raise OrganizationNotFound()
    before = organization.status
    organization.status = status
    verb = "suspended" if status == OrganizationStatus.suspended else "reactivated"
    audit.record(
        session,
        actor=actor,
        action=f"organization.{verb}",
        subject_type="organization",
        subject_id=organization.id,
        before={"status": before},
        after={"status": status},
    )
    await session.flush()
    return organization


async def add_member(
    session: AsyncSession,
    actor: Principal | str,
    organization_id: uuid.UUID,
    *,
    email: str,
    password: str,
    full_name: str,
    role: MemberRole,
) -> tuple[User, Membership]:
    organization = await get_organization(session, organization_id)
    user = await create_user(
        session, kind=UserKind.staff, email=email, password=password, full_name=full_name
    )
    membership = Membership(user_id=user.id, organization_id=organization.id, role=role)
    session.add(membership)
    audit.record(
        session,
        actor=actor,
        action="organization.member_added",
        subject_type="organization",
        subject_id=organization.id,
        after={"user_id": str(user.id), "role": role.value},
    )
    await session.flush()
    return user, membership


async def issue_api_key(
    session: AsyncSession, actor: Principal | str, organization_id: uuid.UUID, *, name: str
) -> tuple[ApiKey, str]:
    """A new API key for the organisation: the row and the key itself, which is never stored."""
    organization = await get_organization(session, organization_id)
    key, prefix, key_hash = new_api_key()
    api_key = ApiKey(organization_id=organization.id, name=name, prefix=prefix, key_hash=key_hash)
    session.add(api_key)
    audit.record(
        session,
        actor=actor,
        action="api_key.issued",
        subject_type="organization",
        subject_id=organization.id,
        after={"api_key_id": str(api_key.id), "prefix": prefix},
    )
    await session.flush()
    return api_key, key


async def revoke_api_key(
    session: AsyncSession, actor: Principal, organization_id: uuid.UUID, key_id: uuid.UUID
) -> ApiKey:
    api_key = await repository.revoke_api_key(session, organization_id, key_id)
    if api_key is None:
        raise ApiKeyNotFound()
    audit.record(
        session,
        actor=actor,
        action="api_key.revoked",
        subject_type="organization",
        subject_id=organization_id,
        after={"api_key_id": str(key_id)},
    )
    return api_key
