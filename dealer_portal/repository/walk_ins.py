"""SQL for walk-in claim codes: one live code per account, used once."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.models import WalkInClaim
from shared import pii
from shared.identity.models import User, UserKind


async def replace_claim(session: AsyncSession, claim: WalkInClaim) -> None:
    """Store ``claim`` as the account's one live claim code (replacing an earlier one)."""
    await session.execute(
        insert(WalkInClaim)
        .values(
            id=claim.id,
            user_id=claim.user_id,
            dealer_id=claim.dealer_id,
            application_id=claim.application_id,
            code_hash=claim.code_hash,
            expires_at=claim.expires_at,
            used_at=None,
            created_at=claim.created_at,
        )
        .on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "dealer_id": claim.dealer_id,
                "application_id": claim.application_id,
                "code_hash": claim.code_hash,
                "expires_at": claim.expires_at,
                "used_at": None,
                "created_at": claim.created_at,
            },
        )
    )


async def use_claim(
    session: AsyncSession, *, phone: str, code_hash: str, now: datetime
) -> uuid.UUID | None:
    """Mark the live claim matching phone and code used; the account's id, or None.

    Conditional on ``used_at IS NULL`` and the account still passwordless: a code works once.
    """
    unclaimed_user = select(col(User.id)).where(
        col(User.phone_hash) == pii.lookup_hash(phone),
        col(User.kind) == UserKind.buyer,
        col(User.password_hash).is_(None),
    )
    result = await session.execute(
        update(WalkInClaim)
        .where(
            col(WalkInClaim.code_hash) == code_hash,
            col(WalkInClaim.used_at).is_(None),
            col(WalkInClaim.expires_at) > now,
            col(WalkInClaim.user_id).in_(unclaimed_user),
        )
        .values(used_at=now)
        .returning(col(WalkInClaim.user_id))
    )
    return result.scalar_one_or_none()
