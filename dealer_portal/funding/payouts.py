"""Paying the dealer: a recorded disbursement becomes a Stripe Transfer, outside any transaction.

The disbursement row is written in the transaction that funds the loan (``pending`` when the
dealer has a connected account, else ``not_connected``). Whoever pays it first *claims* it — a
conditional update that commits — then calls Stripe with no transaction open, then records the
answer in a short transaction of its own:

- ``/fund`` writes the row already claimed (for ``CLAIM_FOR``) and pays it right after the
  funding commits;
- the auto-funded handover writes it unclaimed, and ``autofin jobs run`` pays it
  (``pay_pending``);
- a holder that died after its claim committed (before or after Stripe answered) leaves a
  claim that runs out; the next ``jobs run`` claims it again and repeats the transfer with the
  same idempotency key, ``loan-{loan_id}-disbursement`` (and the same transfer group), so
  Stripe answers with the transfer it already made: the dealer is paid once.

Two sweeps at once claim different rows (``FOR UPDATE SKIP LOCKED`` and the claim's own
condition); a transfer answered twice is recorded once (``WHERE status = 'pending'``).
Stripe unreachable: the claim is let go and the next run tries again. Stripe refusing the
transfer (the account is not connected or cannot receive): ``failed``, with Stripe's code.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal.funding import repository
from dealer_portal.funding.models import Disbursement, DisbursementStatus
from shared import audit
from shared.db import Database, utcnow
from shared.errors import DomainError
from shared.observability import event
from shared.payments.gateway import PaymentProviderUnavailable
from shared.payments.transfers import TransferGateway

PURPOSE = "disbursement"
# Longer than Stripe can take to answer (the SDK's timeout and retries): a live holder is never
# overtaken; a dead one is replaced by the next run after this.
CLAIM_FOR = timedelta(minutes=5)
BATCH_SIZE = 100


def transfer_key(loan_id: uuid.UUID) -> str:
    return f"loan-{loan_id}-disbursement"


def transfer_group(loan_id: uuid.UUID) -> str:
    return f"loan-{loan_id}"


async def pay_claimed(
    session: AsyncSession, transfers: TransferGateway, disbursement: Disbursement
) -> Disbursement:
    """Pay a disbursement this caller claimed; call it with no transaction open on
    ``session``. The disbursement as recorded afterwards (still ``pending`` if Stripe was
    unreachable, or if another holder recorded it first)."""
    assert disbursement.destination is not None
    try:
        transfer = await transfers.create_transfer(
            amount=disbursement.amount,
            destination=disbursement.destination,
            idempotency_key=transfer_key(disbursement.loan_id),
            transfer_group=transfer_group(disbursement.loan_id),
            metadata={
                "purpose": PURPOSE,
                "loan_id": str(disbursement.loan_id),
                "dealer_id": str(disbursement.dealer_id),
            },
        )
    except PaymentProviderUnavailable:
        await repository.release(session, disbursement.id)
        await session.commit()
        event("disbursement.retry_later", loan_id=str(disbursement.loan_id))
        return disbursement
    except DomainError as refusal:
        return await _record(
            session,
            disbursement,
            action="disbursement.failed",
            status=DisbursementStatus.failed.value,
            failure_code=refusal.code,
        )
    return await _record(
        session,
        disbursement,
        action="disbursement.paid",
        status=DisbursementStatus.paid.value,
        transfer_id=transfer.id,
        paid_at=utcnow(),
    )


async def _record(
    session: AsyncSession, disbursement: Disbursement, *, action: str, **values: object
) -> Disbursement:
    settled = await repository.settle(session, disbursement.id, **values)
    if settled is not None:
        audit.record(
            session,
            actor=audit.SYSTEM_ACTOR,
            action=action,
            subject_type="loan",
            subject_id=disbursement.loan_id,
            after={k: str(v) for k, v in values.items()},
        )
    await session.commit()
    event(action, loan_id=str(disbursement.loan_id), recorded=settled is not None)
    if settled is None:
        # Recorded by an earlier holder whose claim ran out (same transfer, same key).
        found = await repository.disbursement_of(
            session, disbursement.loan_id, repository.of_dealer(disbursement.dealer_id)
        )
        await session.commit()
        return found or disbursement
    return settled


async def pay_pending(
    database: Database,
    transfers: TransferGateway,
    *,
    now: datetime | None = None,
    limit: int = BATCH_SIZE,
) -> dict[str, int]:
    """``autofin jobs run``'s step: pay every pending disbursement nobody holds; how many were
    paid, failed, or left for the next run. Opens its own short transactions and calls Stripe
    between them, so it must not be called inside one; safe to run concurrently."""
    done = {"paid": 0, "failed": 0, "left": 0}
    async with database.sessionmaker() as session:
        for _ in range(limit):
            # One at a time, so that no claim waits behind others' transfers and runs out.
            moment = now or utcnow()
            claimed = await repository.claim_pending(
                session, now=moment, until=moment + CLAIM_FOR, limit=1
            )
            await session.commit()
            if not claimed:
                break
            outcome = await pay_claimed(session, transfers, claimed[0])
            if outcome.status == DisbursementStatus.paid.value:
                done["paid"] += 1
            elif outcome.status == DisbursementStatus.failed.value:
                done["failed"] += 1
            else:  # Stripe is unreachable: the next run tries again
                done["left"] += 1
                break
    return done
