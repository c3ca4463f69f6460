"""SQL for funding: the deal behind a loan, disbursements and dealers' payout accounts.

Reads of a deal or a disbursement take their tenant (``lender_id`` or ``dealer_id``) as a
required argument; the payout steps after a funded loan act by id and say so. Every change of
a disbursement's state is one conditional UPDATE … RETURNING.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.funding.models import Disbursement, DisbursementStatus, PayoutAccount
from dealer_portal.models import DealerDeal
from shared.identity.models import Organization, OrganizationKind
from shared.writes import insert_unique


async def deal_of_loan(
    session: AsyncSession, loan_id: uuid.UUID, *, lender_id: uuid.UUID, for_update: bool = False
) -> DealerDeal | None:
    """The deal that booked the lender's loan; locked with ``for_update`` so that nothing the
    gates read changes until the funding commits."""
    statement = select(DealerDeal).where(
        col(DealerDeal.loan_id) == loan_id, col(DealerDeal.lender_id) == lender_id
    )
    if for_update:
        statement = statement.with_for_update()
    result = await session.execute(statement.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def organization(session: AsyncSession, organization_id: uuid.UUID) -> Organization:
    result = await session.execute(
        select(Organization).where(col(Organization.id) == organization_id)
    )
    return result.scalar_one()


async def dealer_exists(session: AsyncSession, dealer_id: uuid.UUID) -> bool:
    found = await session.execute(
        select(col(Organization.id)).where(
            col(Organization.id) == dealer_id,
            col(Organization.kind) == OrganizationKind.dealer.value,
        )
    )
    return found.first() is not None


# -- payout accounts ---------------------------------------------------------------------------


async def payout_account(session: AsyncSession, *, dealer_id: uuid.UUID) -> str | None:
    result = await session.execute(
        select(col(PayoutAccount.stripe_account_id)).where(
            col(PayoutAccount.dealer_id) == dealer_id
        )
    )
    return result.scalar_one_or_none()


async def set_payout_account(
    session: AsyncSession, *, dealer_id: uuid.UUID, stripe_account_id: str, by: str, now: datetime
) -> PayoutAccount:
    values = {"stripe_account_id": stripe_account_id, "updated_by": by, "updated_at": now}
    result = await session.execute(
        insert(PayoutAccount)
        .values(dealer_id=dealer_id, **values)
        .on_conflict_do_update(index_elements=[col(PayoutAccount.dealer_id)], set_=values)
        .returning(PayoutAccount)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one()


# -- disbursements ---------------------------------------------------------------------------


async def add_disbursement(session: AsyncSession, disbursement: Disbursement) -> bool:
    """False (nothing written) when the loan already has one."""
    return await insert_unique(session, disbursement)


async def disbursement_of(
    session: AsyncSession, loan_id: uuid.UUID, tenant: ColumnElement[bool]
) -> Disbursement | None:
    result = await session.execute(
        select(Disbursement)
        .where(col(Disbursement.loan_id) == loan_id, tenant)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


def of_lender(lender_id: uuid.UUID) -> ColumnElement[bool]:
    return col(Disbursement.lender_id) == lender_id


def of_dealer(dealer_id: uuid.UUID) -> ColumnElement[bool]:
    return col(Disbursement.dealer_id) == dealer_id


def _claimable(now: datetime) -> ColumnElement[bool]:
    return (col(Disbursement.status) == DisbursementStatus.pending.value) & (
        col(Disbursement.claimed_until).is_(None) | (col(Disbursement.claimed_until) < now)
    )


async def claim_pending(
    session: AsyncSession, *, now: datetime, until: datetime, limit: int
) -> list[Disbursement]:
    """Claim up to ``limit`` pending disbursements nobody holds (or whose holder's claim ran
    out) until ``until``, oldest first. Rows another run is claiming are skipped, never waited
    for: two runs at once claim different rows. By id: the platform's own sweep."""
    claimable = (
        select(col(Disbursement.id))
        .where(_claimable(now))
        .order_by(col(Disbursement.created_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        update(Disbursement)
        .where(col(Disbursement.id).in_(claimable.scalar_subquery()), _claimable(now))
        .values(claimed_until=until)
        .returning(Disbursement)
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def settle(
    session: AsyncSession, disbursement_id: uuid.UUID, **values: object
) -> Disbursement | None:
    """``pending → values["status"]``; None if it is no longer pending (settled already). By id:
    only the payout that claimed it calls this."""
    result = await session.execute(
        update(Disbursement)
        .where(
            col(Disbursement.id) == disbursement_id,
            col(Disbursement.status) == DisbursementStatus.pending.value,
        )
        .values(claimed_until=None, **values)
        .returning(Disbursement)
        .execution_options(populate_existing=True)
    )
    return result.scalars().one_or_none()


async def release(session: AsyncSession, disbursement_id: uuid.UUID) -> None:
    """Let the next sweep try again at once (Stripe was unreachable)."""
    await session.execute(
        update(Disbursement)
        .where(
            col(Disbursement.id) == disbursement_id,
            col(Disbursement.status) == DisbursementStatus.pending.value,
        )
        .values(claimed_until=None)
    )
