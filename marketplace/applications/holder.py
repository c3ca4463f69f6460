"""An account applies for its own national ID only (三要素: name, ID and verified phone checked
together once, then the account is bound to the ID for good)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.applications import repository
from marketplace.applications.exceptions import ApplicationRefused, IdentityMismatch
from marketplace.applications.identity_check import IdentityVerifier
from shared import audit
from shared.identity import repository as identity_repository
from shared.identity import service as identity_service
from shared.identity.principal import Principal
from shared.observability import event


async def ensure_holder(
    session: AsyncSession,
    actor: Principal,
    buyer_id: uuid.UUID,
    national_id: str,
    person_hash: str,
    verifier: IdentityVerifier,
    now: datetime,
) -> None:
    """The account applies for its own ID only: bound to it already, or bound now after its
    name, this ID and its verified phone are confirmed as one person. The verifier is called
    with the attempt counted and committed, and nothing held while it answers."""
    buyer, bound_elsewhere = await repository.account_and_holder(session, buyer_id, person_hash)
    if buyer is None:
        raise ApplicationRefused()
    if buyer.person_hash is not None:
        if buyer.person_hash != person_hash:
            raise ApplicationRefused()
        return
    if bound_elsewhere:
        raise ApplicationRefused()
    phone = identity_service.phone_of(buyer)
    if phone is None:
        raise IdentityMismatch("The account has no verified phone to check the identity with.")
    full_name = buyer.full_name
    await session.commit()  # the phase boundary: attempts counted, nothing held while it answers
    matches = await verifier.verify(full_name=full_name, national_id=national_id, phone=phone)
    if not matches:
        event("identity.mismatch", buyer_id=str(buyer_id), verifier=verifier.name)
        raise IdentityMismatch(field="national_id")
    if not await identity_repository.bind_person(session, buyer_id, person_hash, now):
        raise ApplicationRefused()
    audit.record(
        session,
        actor=actor,
        action="identity.verified",
        subject_type="user",
        subject_id=buyer_id,
        after={"verifier": verifier.name},
    )
