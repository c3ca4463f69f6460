"""The dealer handover: confirm a quoted deal exactly once, take the down payment through Stripe,
cancel before handover (refunding a paid down payment).

**How confirm is exactly-once.** ``confirm`` runs as ``IdempotentRun`` atomic phases (see
``shared.idempotency``) under the dealer's ``Idempotency-Key``:

1. *booked* — one transaction: the deal moves ``quoted → confirmed`` (conditional UPDATE), the
   approval is consumed (conditional UPDATE in ``preapproval_service.consume``: of any number
   of racing confirms, on this deal or another deal on the same approval, exactly one gets the
   row), the loan is booked on the locked product version, the audit entries are written, and
   the key's recovery point becomes ``booked`` — all or nothing. A loser's transaction rolls
   back whole, and its 409 is stored as that key's answer.
2. no transaction open — the down-payment PaymentIntent is created with the Stripe idempotency
   key ``deal-{id}-down-payment`` (derived from the deal, identical on every retry).
3. *finished* — one transaction: the PaymentIntent id is stored on the deal and the response on
   the key.

A crash after 1 leaves the key at ``booked`` (unlocked after a failure, or its lock times out):
the retry with the same key skips 1 and repeats 2. A crash after Stripe answered 2 but before 3
committed is covered by Stripe: the same idempotency key makes Stripe return the PaymentIntent
it already created (for 24 hours), so the retry stores that one and the buyer is asked to pay
once. (localstripe ignores idempotency keys; the tests emulate Stripe's replay.) A finished key
replays its stored answer and never reaches Stripe again.

A positive down payment is required (the deal is refused at quote time otherwise): China's auto
loan rules cap the loan below the car's price, and the handover is signalled by the down payment's
``payment_intent.succeeded`` webhook, so there is always one PaymentIntent per confirmed deal.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import events as deal_events
from dealer_portal import repository
from dealer_portal.decisions import gate
from dealer_portal.decisions import repository as decision_repository
from dealer_portal.exceptions import (
    DealAlreadyCancelled,
    DealNotCancellable,
    DealNotFound,
    DealNotQuoted,
    DownPaymentProcessing,
)
from dealer_portal.funding.exceptions import VinAlreadyFinanced
from dealer_portal.models import DealerDeal, DealStatus
from dealer_portal.schemas import (
    ConfirmedDeal,
    ConfirmRequest,
    DownPaymentRequested,
    deal_public,
)
from dealer_portal.service import get_deal
from marketplace.preapprovals import service as preapproval_service
from marketplace.servicing import repository as servicing_repository
from marketplace.servicing import service as servicing_service
from marketplace.servicing.exceptions import LoanAlreadyBooked
from marketplace.servicing.models import Loan
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

DOWN_PAYMENT_PURPOSE = "down_payment"
BOOKED = "booked"
CANCELLED = "cancelled"


def down_payment_key(deal_id: uuid.UUID) -> str:
    return f"deal-{deal_id}-down-payment"


def refund_key(deal_id: uuid.UUID) -> str:
    return f"deal-{deal_id}-refund"


# -- confirm -------------------------------------------------------------------------------------


async def _current_status(session: AsyncSession, dealer: Principal, deal_id: uuid.UUID) -> str:
    deal = await repository.get_deal(session, deal_id, dealer_id=dealer.org_id)
    if deal is None:
        raise DealNotFound()
    return deal.status


async def _book_loan(
    session: AsyncSession,
    dealer: Principal,
    confirmed: DealerDeal,
    *,
    auto_fund: bool,
    now: datetime,
) -> Loan:
    """The confirmed deal's loan, booked on its locked product version."""
    return await servicing_service.book_loan(
        session,
        dealer,
        preapproval_id=confirmed.preapproval_id,
        offer_id=confirmed.offer_id,
        product_version_id=confirmed.product_version_id,
        lender_id=confirmed.lender_id,
        buyer_id=confirmed.buyer_id,
        dealer_id=confirmed.dealer_id,
        principal=confirmed.principal,
        annual_rate=confirmed.annual_rate,
        term_months=confirmed.term_months,
        method=confirmed.method,
        upfront_fee=confirmed.upfront_fee,
        grade=confirmed.grade,
        pd=confirmed.pd,
        platform_guarantee=confirmed.platform_guarantee,
        auto_fund=auto_fund,
        loan_date=now.date(),
        vehicle={
            "vin": confirmed.vin,
            "make": confirmed.make,
            "model": confirmed.model,
            "vehicle_type": confirmed.vehicle_type,
            "price": confirmed.car_price,
        },
    )


async def confirm_and_book(
    session: AsyncSession,
    dealer: Principal,
    deal_id: uuid.UUID,
    body: ConfirmRequest,
    now: datetime,
) -> DealerDeal:
    """Phase 1 of confirm, in one transaction: deal confirmed, approval consumed, loan booked.

    Only flushes; the caller's phase commits it all together or nothing.
    """
    confirmed = await repository.confirm_quoted(
        session, deal_id, dealer_id=dealer.org_id, verified_by=dealer.actor, now=now
    )
    if confirmed is None:
        status = await _current_status(session, dealer, deal_id)
        raise DealNotQuoted(f"This deal is {status}; only a quoted deal can be confirmed.")
    # Never read-then-write: the conditional update decides which confirm wins the approval.
    await preapproval_service.consume(session, dealer, confirmed.preapproval_id, now)
    product = await decision_repository.product_version(session, confirmed.product_version_id)
    try:
        loan = await _book_loan(session, dealer, confirmed, auto_fund=product.auto_fund, now=now)
    except LoanAlreadyBooked:
        # The approval was just consumed by this transaction, so the only live loan this
        # booking can collide with is another one on the same car.
        if await servicing_repository.live_loan_on_vin(session, confirmed.vin):
            raise VinAlreadyFinanced() from None
        raise
    booked = await repository.attach_loan(session, deal_id, loan.id, now)
    assert booked is not None
    if not product.auto_fund:
        booked = await gate.start_decision(session, dealer, booked, product.auto_approve, now)
    audit.record(
        session,
        actor=dealer,
        action="deal.confirmed",
        subject_type="deal",
        subject_id=deal_id,
        before={"status": DealStatus.quoted.value},
        after={
            "status": DealStatus.confirmed.value,
            "loan_id": str(loan.id),
            "preapproval_id": str(confirmed.preapproval_id),
            "identity_document": body.identity_document,
            "down_payment": confirmed.down_payment_amount,
        },
    )
    await deal_events.deal_submitted(session, booked)
    event("deal.confirmed", deal_id=str(deal_id), loan_id=str(loan.id))
    return booked


async def store_down_payment(
    session: AsyncSession, deal_id: uuid.UUID, payment_intent_id: str, now: datetime
) -> DealerDeal:
    """Phase 3 of confirm: the PaymentIntent id on the deal (the same one on every retry)."""
    stored = await repository.store_payment_intent(session, deal_id, payment_intent_id, now)
    if stored is None:
        if await repository.status_of(session, deal_id) == DealStatus.cancelled:
            # Cancelled while Stripe was being asked: the client secret is never handed out,
            # so nobody can pay this PaymentIntent.
            raise DealAlreadyCancelled(variant="while_confirming")
        raise RuntimeError(f"deal {deal_id} already holds another down-payment PaymentIntent")
    audit.record(
        session,
        actor=audit.SYSTEM_ACTOR,
        action="deal.down_payment_requested",
        subject_type="deal",
        subject_id=deal_id,
        after={"payment_intent_id": payment_intent_id, "amount": stored.down_payment_amount},
    )
    return stored


async def confirm(
    session: AsyncSession,
    gateway: PaymentGateway,
    dealer: Principal,
    deal_id: uuid.UUID,
    body: ConfirmRequest,
    *,
    idempotency_key: str,
) -> tuple[StoredResponse, bool]:
    """Confirm a quoted deal exactly once (see the module docstring); the answer, and whether
    it is a replay of an earlier one."""
    fingerprint = request_fingerprint("POST", f"/v1/dealer/deals/{deal_id}/confirm", body)
    async with IdempotentRun.begin(
        session, scope=idempotency_scope(dealer), key=idempotency_key, fingerprint=fingerprint
    ) as run:
        if run.response is None and run.recovery_point == STARTED:

            async def book(session: AsyncSession) -> RecoveryPoint:
                deal = await confirm_and_book(session, dealer, deal_id, body, utcnow())
                return RecoveryPoint(
                    BOOKED, {"loan_id": str(deal.loan_id), "amount": deal.down_payment_amount}
                )

            await run.phase(book)

        if run.response is None and run.recovery_point == BOOKED:
            # No transaction is open here. If we die after Stripe answers and before `store`
            # commits, the retry comes back here with the same Stripe idempotency key and gets
            # the same PaymentIntent back from Stripe: one down payment, never two.
            intent = await gateway.create_payment_intent(
                amount=int(run.data["amount"]),
                idempotency_key=down_payment_key(deal_id),
                metadata={"purpose": DOWN_PAYMENT_PURPOSE, "deal_id": str(deal_id)},
            )

            async def store(session: AsyncSession) -> StoredResponse:
                deal = await store_down_payment(session, deal_id, intent.id, utcnow())
                names = await repository.buyer_names(session, [deal.buyer_id])
                answer = ConfirmedDeal(
                    deal=deal_public(deal, names.get(deal.buyer_id, "")),
                    loan_id=uuid.UUID(str(run.data["loan_id"])),
                    down_payment=DownPaymentRequested(
                        payment_intent_id=intent.id,
                        client_secret=intent.client_secret,
                        amount=intent.amount,
                    ),
                )
                return StoredResponse(200, answer.model_dump(mode="json"))

            await run.phase(store)
        assert run.response is not None
        return run.response, run.replayed


# -- cancel --------------------------------------------------------------------------------------


async def cancel_before_handover(
    session: AsyncSession,
    actor: Principal,
    deal_id: uuid.UUID,
    now: datetime,
    *,
    dealer_id: uuid.UUID,
    action: str = "deal.cancelled",
) -> DealerDeal:
    """Phase 1 of cancel, in one transaction: the deal (of ``dealer_id``) cancelled and, if it
    was confirmed, its loan cancelled and the credit given back. Only flushes.

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
                payment_intent_id, idempotency_key=f"deal-{deal_id}-down-payment-cancel"
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
    """Phase 3 of cancel: the refund (or the PaymentIntent's cancellation) on the deal."""
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
    """Cancel a deal before handover as atomic phases: ``cancel_deal`` changes the database
    (recovery point ``cancelled``), then Stripe is called outside any transaction (cancel or
    refund the down payment with keys derived from the deal), then the refund is stored. The
    dealer's ``/cancel``, the lender's decline and the buyer's declined counter-offer all end
    here."""
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
