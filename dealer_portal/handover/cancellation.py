"""Cancelling a deal before handover, as atomic phases (explained once in
``shared.idempotency``): the deal cancelled, its loan cancelled and the credit given back; then,
with no transaction open, the down payment's PaymentIntent cancelled or, if it was paid,
refunded; then the refund stored. The dealer's ``/cancel``, the lender's decline and the buyer's
declined counter-offer all end here."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import repository
from dealer_portal.exceptions import (
    DealAlreadyCancelled,
    DealNotCancellable,
    DealNotFound,
    DownPaymentProcessing,
)
from dealer_portal.handover.down_payment import cancel_key, refund_key
from dealer_portal.models import DealerDeal, DealStatus
from dealer_portal.views import get_deal
from marketplace.preapprovals import service as preapproval_service
from marketplace.servicing import service as servicing_service
from shared import audit
from shared.db import utcnow
from shared.idempotency import (
    STARTED,
    IdempotentRun,
    RecoveryPoint,
    StoredResponse,
    idempotency_scope,
    request_fingerprint,
)
from shared.identity.principal import Principal
from shared.observability import event
from shared.payments.gateway import PaymentGateway, PaymentRequestRejected

CANCELLED = "cancelled"


async def cancel_before_handover(
    session: AsyncSession,
    actor: Principal,
    deal_id: uuid.UUID,
    now: datetime,
    *,
    dealer_id: uuid.UUID,
    action: str = "deal.cancelled",
) -> DealerDeal:
    """Cancel's first phase (recovery point ``cancelled``), in one transaction: the deal (of
    ``dealer_id``) cancelled and, if it was confirmed, its loan cancelled and the credit given
    back. Only flushes.

    ``actor`` is the dealer, or — for a lender's decline or a buyer declining a counter-offer,
    which cancel the deal just as the dealer would — the lender or the buyer."""
    deal = await repository.get_deal(session, deal_id, dealer_id=dealer_id)
    if deal is None:
        raise DealNotFound()
    cancelled = await repository.cancel_open(session, deal_id, dealer_id=dealer_id, now=now)
    if cancelled is None:
        status = await repository.status_of(session, deal_id)
        if status == DealStatus.cancelled:
            raise DealAlreadyCancelled()
        raise DealNotCancellable()
    was_confirmed = cancelled.confirmed_at is not None
    if was_confirmed:
        if cancelled.loan_id is not None:
            await servicing_service.cancel_before_handover(session, actor, cancelled.loan_id)
        await preapproval_service.release(session, actor, cancelled.preapproval_id, now)
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="deal",
        subject_id=deal_id,
        before={"status": (DealStatus.confirmed if was_confirmed else DealStatus.quoted).value},
        after={
            "status": DealStatus.cancelled.value,
            "loan_id": str(cancelled.loan_id) if cancelled.loan_id else None,
            "credit_released": was_confirmed,
        },
    )
    event(action, deal_id=str(deal_id))
    return cancelled


async def settle_down_payment_after_cancel(
    gateway: PaymentGateway, deal_id: uuid.UUID, payment_intent_id: str
) -> str | None:
    """Make sure a cancelled deal's down payment ends with the buyer: cancel the PaymentIntent
    if it is unpaid, refund it if it was paid; the refund id, or None when nothing was paid.

    Stripe serialises a cancel against a payment, so a buyer paying at this very moment either
    sees the PaymentIntent cancelled or is refunded here.
    """
    intent = await gateway.retrieve_payment_intent(payment_intent_id)
    if intent.status not in ("succeeded", "canceled", "processing"):
        try:
            await gateway.cancel_payment_intent(
                payment_intent_id, idempotency_key=cancel_key(deal_id)
            )
            return None
        except PaymentRequestRejected:
            intent = await gateway.retrieve_payment_intent(payment_intent_id)
    if intent.status == "canceled":
        return None
    if intent.status != "succeeded":
        raise DownPaymentProcessing()
    refund = await gateway.create_refund(
        payment_intent_id=payment_intent_id, idempotency_key=refund_key(deal_id)
    )
    return refund.id


async def store_refund(
    session: AsyncSession, deal_id: uuid.UUID, refund_id: str | None, now: datetime
) -> DealerDeal | None:
    """Cancel's last phase: the refund (or the PaymentIntent's cancellation) on the deal."""
    action = "deal.down_payment_cancelled" if refund_id is None else "deal.down_payment_refunded"
    stored = await repository.store_refund(session, deal_id, refund_id=refund_id, now=now)
    if stored is not None:
        audit.record(
            session,
            actor=audit.SYSTEM_ACTOR,
            action=action,
            subject_type="deal",
            subject_id=deal_id,
            after={"refund_id": refund_id, "payment_intent_id": stored.payment_intent_id},
        )
    return stored


CancelStep = Callable[[AsyncSession], Awaitable[DealerDeal]]


async def cancel_in_phases(
    session: AsyncSession,
    gateway: PaymentGateway,
    actor: Principal,
    deal_id: uuid.UUID,
    *,
    key: str,
    fingerprint: str,
    cancel_deal: CancelStep,
    answer: Callable[[AsyncSession], Awaitable[StoredResponse]],
) -> tuple[StoredResponse, bool]:
    """Cancel a deal before handover in the phases the module describes: ``cancel_deal`` is the
    first (recovery point ``cancelled``, or the answer at once when no PaymentIntent was ever
    stored), then Stripe (``settle_down_payment_after_cancel``), then ``store_refund``;
    ``answer`` is the response stored."""
    async with IdempotentRun.begin(
        session, scope=idempotency_scope(actor), key=key, fingerprint=fingerprint
    ) as run:
        if run.response is None and run.recovery_point == STARTED:

            async def first(session: AsyncSession) -> RecoveryPoint | StoredResponse:
                deal = await cancel_deal(session)
                if deal.payment_intent_id is None:
                    # No PaymentIntent was stored, so its client secret never reached the
                    # buyer: a confirm still in flight is refused when it tries to store one.
                    return await answer(session)
                return RecoveryPoint(CANCELLED, {"payment_intent_id": deal.payment_intent_id})

            await run.phase(first)

        if run.response is None and run.recovery_point == CANCELLED:
            refund_id = await settle_down_payment_after_cancel(
                gateway, deal_id, str(run.data["payment_intent_id"])
            )

            async def store(session: AsyncSession) -> StoredResponse:
                await store_refund(session, deal_id, refund_id, utcnow())
                return await answer(session)

            await run.phase(store)
        assert run.response is not None
        return run.response, run.replayed


async def cancel(
    session: AsyncSession,
    gateway: PaymentGateway,
    dealer: Principal,
    deal_id: uuid.UUID,
    *,
    idempotency_key: str | None,
) -> tuple[StoredResponse, bool]:
    """The dealer cancels a deal before handover (``cancel_in_phases``). Without an
    ``Idempotency-Key`` the deal's own cancellation key is used, so repeating a cancel replays
    its answer."""

    async def answer(session: AsyncSession) -> StoredResponse:
        return StoredResponse(
            200, (await get_deal(session, dealer, deal_id)).model_dump(mode="json")
        )

    async def cancel_deal(session: AsyncSession) -> DealerDeal:
        return await cancel_before_handover(
            session, dealer, deal_id, utcnow(), dealer_id=dealer.org_id
        )

    return await cancel_in_phases(
        session,
        gateway,
        dealer,
        deal_id,
        key=idempotency_key or f"autofin-deal-{deal_id}-cancel",
        fingerprint=request_fingerprint("POST", f"/v1/dealer/deals/{deal_id}/cancel", None),
        cancel_deal=cancel_deal,
        answer=answer,
    )
