"""Pre-approvals: a credit line with an expiry, not tied to a car, with offers locked to the
product versions they came from. Quoting (``quoting``) never locks the approval; only a dealer's
confirmation consumes it (``consume``), and a cancelled deal gives it back (``release``)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.preapprovals import repository
from marketplace.preapprovals.exceptions import PreapprovalNotFound, unavailable
from marketplace.preapprovals.models import Preapproval, PreapprovalStatus
from marketplace.products import service as product_service
from pricing import Offer, RiskPolicy
from shared import audit, identifiers
from shared.identity.principal import Principal
from shared.writes import Write, insert_unique_reading, send

# No 0/O or 1/I: a code is read aloud and typed by dealer staff.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8


@dataclass(frozen=True)
class NewPreapproval:
    """A pre-approval just created, with its offers as the API shows them, by rank: all its
    view needs, so the answer that creates it need not read it back."""

    preapproval: Preapproval
    offers: list[dict[str, Any]]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """Accept what people type: lower case, spaces, dashes, full-width or other Unicode digits."""
    return identifiers.normalize_code(code)


def effective_status(preapproval: Preapproval, now: datetime) -> PreapprovalStatus:
    """The status as the buyer and dealers see it: past its expiry an active one is expired,
    even before the daily job has written that down."""
    if preapproval.status == PreapprovalStatus.active and preapproval.expires_at <= now:
        return PreapprovalStatus.expired
    return preapproval.status


def ensure_active(preapproval: Preapproval, now: datetime) -> None:
    """Refuse an approval that is not active now, with the code that says why (expired,
    consumed, cancelled)."""
    status = effective_status(preapproval, now)
    if status != PreapprovalStatus.active:
        raise unavailable(status)


def offer_details(offer_id: uuid.UUID, offer: Offer) -> dict[str, Any]:
    """An offer as the API shows it (JSON-ready; rates as decimal strings)."""
    return {
        "offer_id": str(offer_id),
        "lender": offer.lender_name,
        "lender_id": offer.lender_id,
        "product": offer.product_name,
        "product_id": offer.product_id,
        "product_version": offer.product_version,
        "rank": offer.rank,
        "grade": offer.grade,
        "annual_rate": str(offer.annual_rate),
        "apr": str(offer.apr),
        "term_months": offer.term_months,
        "amount": offer.amount,
        "monthly_payment": offer.monthly_payment,
        "total_interest": offer.total_interest,
        "upfront_fee": offer.upfront_fee,
        "total_cost": offer.total_cost,
        "method": offer.method.value,
        "subsidised": offer.subsidised,
        "platform_guarantee": offer.platform_guarantee,
        "why_eligible": list(offer.why_eligible),
        "rank_reason": offer.rank_reason,
    }


async def create(
    session: AsyncSession,
    *,
    application_id: uuid.UUID,
    buyer_id: uuid.UUID,
    person_hash: str,
    grade: str,
    credit_limit: int,
    now: datetime,
    policy: RiskPolicy,
    audit_entries: Sequence[dict[str, Any]] = (),
) -> NewPreapproval | None:
    """A new active pre-approval with the offers of this moment locked to their versions: the
    cheapest ``policy.offers_kept`` (and as many per vehicle type, ``shortlist``), not every
    product that matches — a buyer compares a few, and a big catalogue would write thousands.
    The caller's ``audit_entries`` (``audit.entry``) are written with them, and only with them.

    None when the person already holds an active one (the partial unique index decides, so
    two racing applications cannot both get one).
    """
    for _ in range(5):
        preapproval = Preapproval(
            application_id=application_id,
            buyer_id=buyer_id,
            person_hash=person_hash,
            code=new_code(),
            grade=grade,
            credit_limit=credit_limit,
            expires_at=now + timedelta(days=policy.validity_days),
            created_at=now,
            status_changed_at=now,
        )
        # The INSERT reads the catalogue's generation too: the offers come from it.
        inserted = await insert_unique_reading(
            session, preapproval, product_service.CATALOGUE_GENERATION
        )
        if inserted is not None:
            (generation,) = inserted
            break
        if await repository.active_for_person(session, person_hash, now):
            return None
    else:  # five code collisions in a 32^8 space means something else is wrong
        raise RuntimeError("could not allocate a pre-approval code")

    matchable = await product_service.matchable_catalogue(session, generation=generation)
    version_ids = matchable.version_ids
    kept = matchable.catalogue.best_offers(grade, credit_limit, policy, policy.offers_kept)
    offered = sorted(((uuid.uuid4(), offer) for offer in kept), key=lambda offered: offered[1].rank)
    shown = [offer_details(offer_id, offer) for offer_id, offer in offered]
    rows = [
        {
            "id": offer_id,
            "preapproval_id": preapproval.id,
            "product_version_id": version_ids[(offer.product_id, offer.product_version)],
            "lender_id": uuid.UUID(offer.lender_id),
            "rank": offer.rank,
            "annual_rate": offer.annual_rate,
            "apr": offer.apr,
            "amount": offer.amount,
            "term_months": offer.term_months,
            "monthly_payment": offer.monthly_payment,
            "total_cost": offer.total_cost,
            "details": details,
        }
        for (offer_id, offer), details in zip(offered, shown, strict=True)
    ]
    created = audit.entry(
        actor=f"user:{buyer_id}",
        action="preapproval.created",
        subject_type="preapproval",
        subject_id=preapproval.id,
        after={
            "status": "active",
            "grade": grade,
            "credit_limit": credit_limit,
            "offers": len(kept),
            "expires_at": preapproval.expires_at.isoformat(),
        },
    )
    # One statement: the offers, and the audit entries of the transaction with this one.
    entries = audit.along(session, created, *audit_entries)
    await send(session, entries, *([repository.offers_insert(rows)] if rows else []))
    return NewPreapproval(preapproval, shown)


async def get_for_buyer(
    session: AsyncSession, buyer_id: uuid.UUID, preapproval_id: uuid.UUID
) -> Preapproval:
    preapproval = await repository.get(session, preapproval_id, buyer_id=buyer_id)
    if preapproval is None:
        raise PreapprovalNotFound()
    return preapproval


async def cancel(
    session: AsyncSession, actor: Principal, preapproval: Preapproval, now: datetime
) -> Preapproval:
    """The buyer gives up an active approval (and may apply again)."""
    cancelled = await repository.transition(
        session,
        preapproval.id,
        from_status=PreapprovalStatus.active,
        to_status=PreapprovalStatus.cancelled,
        now=now,
        require_unexpired=True,
    )
    if cancelled is None:
        raise unavailable(effective_status(preapproval, now))
    _audit_transition(session, actor, cancelled, PreapprovalStatus.active)
    return cancelled


async def consume(
    session: AsyncSession, actor: Principal, preapproval_id: uuid.UUID, now: datetime
) -> Preapproval:
    """Consume an active, unexpired approval for a confirmed deal: exactly one caller wins."""
    consumed = await repository.transition(
        session,
        preapproval_id,
        from_status=PreapprovalStatus.active,
        to_status=PreapprovalStatus.consumed,
        now=now,
        require_unexpired=True,
    )
    if consumed is None:
        current = await repository.get_for_platform(session, preapproval_id)
        if current is None:
            raise PreapprovalNotFound()
        raise unavailable(effective_status(current, now))
    _audit_transition(session, actor, consumed, PreapprovalStatus.active)
    return consumed


async def release(
    session: AsyncSession, actor: Principal, preapproval_id: uuid.UUID, now: datetime
) -> Preapproval | None:
    """Give a consumed approval back after its deal was cancelled before handover.

    It becomes active again only while unexpired; past its expiry it becomes expired.
    """
    for to_status, unexpired in (
        (PreapprovalStatus.active, True),
        (PreapprovalStatus.expired, False),
    ):
        released = await repository.transition(
            session,
            preapproval_id,
            from_status=PreapprovalStatus.consumed,
            to_status=to_status,
            now=now,
            require_unexpired=unexpired,
        )
        if released is not None:
            _audit_transition(session, actor, released, PreapprovalStatus.consumed)
            return released
    return None


def _audit_transition(
    session: AsyncSession,
    actor: Principal | str,
    preapproval: Preapproval,
    before: PreapprovalStatus,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"preapproval.{preapproval.status}",
        subject_type="preapproval",
        subject_id=preapproval.id,
        before={"status": before},
        after={"status": preapproval.status},
    )


def lookup_writes(actor: Principal, preapproval: Preapproval) -> list[Write]:
    """What notes that a dealer looked this approval up (the advisor sees it; 飞单 watch) and
    its audit entry, as INSERTs for the caller to send in its own statement."""
    return [
        repository.lookup_insert(preapproval.id, actor.org_id),
        audit.insert(
            audit.entry(
                actor=actor,
                action="preapproval.looked_up",
                subject_type="preapproval",
                subject_id=preapproval.id,
                after={"dealer_id": str(actor.org_id)},
            )
        ),
    ]


async def expire_stale(session: AsyncSession, now: datetime) -> int:
    """The daily job: mark every approval past its validity as expired; how many."""
    expired = await repository.expire_stale(session, now)
    for preapproval_id in expired:
        audit.record(
            session,
            actor=audit.SYSTEM_ACTOR,
            action="preapproval.expired",
            subject_type="preapproval",
            subject_id=preapproval_id,
            before={"status": "active"},
            after={"status": "expired"},
        )
    return len(expired)
