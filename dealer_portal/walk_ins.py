"""Walk-in customers: dealer staff submit an application on the spot, to every lender at once.

One account per phone: the application goes to the account holding the customer's phone. With
none, the customer gets a passwordless buyer account with a placeholder email
(``walk-in-<random>@claim.autofin.invalid``: never the phone), which they claim later with the
one-time code the walk-in answer shows (``POST /v1/auth/claim``), or by registering with the
phone (its SMS code proves the phone), or use at once by logging in with the phone and a code.
Either way the application checks name, national ID and phone together before the first bureau
pull and binds the account to that ID, exactly as online, so a dealer-typed phone cannot drop
someone else's credit decision into an account.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import repository
from dealer_portal.exceptions import ClaimInvalid
from dealer_portal.models import WalkInClaim
from dealer_portal.schemas import (
    ClaimCode,
    ClaimRequest,
    WalkInBuyer,
    WalkInCreate,
    WalkInPublic,
)
from marketplace.applications import service as application_service
from marketplace.applications.bureau import CreditBureau
from marketplace.applications.exceptions import ApplicationRefused
from marketplace.applications.identity_check import IdentityVerifier
from marketplace.applications.models import Channel
from marketplace.applications.views import application_views
from marketplace.preapprovals import service as preapproval_service
from marketplace.scorecards.service import ActiveModels
from pricing import RiskPolicy
from shared import audit, pii, ratelimit
from shared.errors import Unprocessable
from shared.identifiers import mask_phone
from shared.identity import exceptions as identity_exceptions
from shared.identity import repository as identity_repository
from shared.identity import service as identity_service
from shared.identity.models import User, UserKind
from shared.identity.principal import Principal
from shared.identity.security import derive_key, hash_password
from shared.observability import event
from shared.schemas import mask_name
from shared.settings import get_settings

PLACEHOLDER_DOMAIN = "claim.autofin.invalid"
CLAIM_VALIDITY = timedelta(days=14)
CLAIM_FAILURES_PER_PHONE = 5
CLAIM_WINDOW = timedelta(minutes=15)


def placeholder_email() -> str:
    return f"walk-in-{secrets.token_hex(8)}@{PLACEHOLDER_DOMAIN}"


def claim_code_hash(code: str) -> str:
    """A keyed hash of the code (the code itself is never stored)."""
    key = derive_key(get_settings().resolved_secret_key(), "walk-in-claim")
    normalized = preapproval_service.normalize_code(code)
    return hmac.new(key, normalized.encode(), hashlib.sha256).hexdigest()


async def walk_in_buyer(session: AsyncSession, *, full_name: str, phone: str) -> User:
    """The buyer account holding this phone, or a new unclaimed one."""
    existing = await identity_repository.user_by_phone(session, phone)
    if existing is not None:
        if existing.kind != UserKind.buyer:
            raise ApplicationRefused(field="phone")
        if existing.password_hash is None and existing.person_hash is None:
            existing.full_name = full_name  # staff just checked the customer's ID card
            await session.flush()
        return existing
    try:
        user = await identity_service.create_user(
            session,
            kind=UserKind.buyer,
            email=placeholder_email(),
            password=None,
            full_name=full_name,
            phone=phone,
        )
    except identity_exceptions.PhoneTaken:  # a concurrent walk-in for the same phone won
        raced = await identity_repository.user_by_phone(session, phone)
        assert raced is not None
        return raced
    audit.record(
        session,
        actor=f"user:{user.id}",
        action="buyer.created_at_dealer",
        subject_type="user",
        subject_id=user.id,
    )
    return user


async def submit(
    session: AsyncSession,
    dealer: Principal,
    body: WalkInCreate,
    bureau: CreditBureau,
    verifier: IdentityVerifier,
    now: datetime,
    *,
    models: ActiveModels,
    policy: RiskPolicy,
) -> WalkInPublic:
    """Decide a walk-in customer's application exactly as an online one (same path, every
    lender), rate-limited per dealer and per national ID; the answer never holds the ID."""
    buyer = await walk_in_buyer(session, full_name=body.full_name, phone=body.phone)
    buyer_id, passwordless, buyer_name = buyer.id, buyer.password_hash is None, buyer.full_name
    decided = await application_service.submit(
        session,
        dealer,
        body.application(),
        bureau,
        verifier,
        buyer_id=buyer_id,
        now=now,
        models=models,
        policy=policy,
        channel=Channel.walk_in,
        dealer_id=dealer.org_id,
    )
    application = decided.application
    claim = None
    if passwordless:
        code = preapproval_service.new_code()
        expires_at = now + CLAIM_VALIDITY
        await repository.replace_claim(
            session,
            WalkInClaim(
                user_id=buyer_id,
                dealer_id=dealer.org_id,
                application_id=application.id,
                code_hash=claim_code_hash(code),
                expires_at=expires_at,
                created_at=now,
            ),
        )
        claim = ClaimCode(claim_code=code, expires_at=expires_at)
    view = (await application_views(session, [application], fresh=decided.fresh()))[0]
    event(
        "dealer.walk_in_submitted",
        dealer_id=str(dealer.org_id),
        application_id=str(application.id),
        decision=application.decision,
    )
    return WalkInPublic(
        **view.model_dump(exclude={"id", "national_id_masked"}),
        application_id=view.id,
        buyer=WalkInBuyer(
            id=buyer_id, name_masked=mask_name(buyer_name), phone_masked=mask_phone(body.phone)
        ),
        claim=claim,
    )


async def claim(session: AsyncSession, body: ClaimRequest, now: datetime) -> User:
    """Set email and password on a walk-in account whose live claim code matches: once only.

    Failed attempts are throttled per phone: each attempt is counted as a failure (committed)
    before the code is compared, and a successful claim takes its count back.
    """
    if body.email.endswith("@" + PLACEHOLDER_DOMAIN):
        raise Unprocessable("Use your own email address.", field="email", variant="own_email")
    limit_key = f"walk_in_claim:phone:{pii.lookup_hash(body.phone)}"
    reservation = await ratelimit.reserve(
        session, limit_key, limit=CLAIM_FAILURES_PER_PHONE, window=CLAIM_WINDOW
    )
    user_id = await repository.use_claim(
        session, phone=body.phone, code_hash=claim_code_hash(body.claim_code), now=now
    )
    if user_id is None:
        raise ClaimInvalid()  # the reserved failure stays counted
    password_hash = await hash_password(body.password)
    try:
        async with session.begin_nested():
            claimed = await identity_repository.set_credentials(
                session, user_id, email=body.email, password_hash=password_hash
            )
    except IntegrityError:
        raise identity_exceptions.EmailTaken(field="email") from None
    if not claimed:
        raise ClaimInvalid()
    audit.record(
        session,
        actor=f"user:{user_id}",
        action="buyer.claimed_walk_in_account",
        subject_type="user",
        subject_id=user_id,
    )
    user = await session.get(User, user_id, populate_existing=True)
    assert user is not None
    await reservation.release(session)  # commits the claim with its count taken back
    return user
