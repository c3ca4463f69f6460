"""Confirming a quoted deal at handover, exactly once.

``confirm`` runs as atomic phases under the dealer's ``Idempotency-Key`` (keys, recovery points,
replays and why Stripe is called between two phases are explained once, in
``shared.idempotency``):

1. *booked* — one transaction: the deal moves ``quoted → confirmed`` (conditional UPDATE), the
   approval is consumed (conditional UPDATE in ``preapproval_service.consume``: of any number
   of racing confirms, on this deal or another deal on the same approval, exactly one gets the
   row), the loan is booked on the locked product version, the audit entries are written, and
   the key's recovery point becomes ``booked`` — all or nothing. A loser's transaction rolls
   back whole, and its 409 is stored as that key's answer.
2. no transaction open — the down-payment PaymentIntent is created with the Stripe idempotency
   key ``deal-{id}-down-payment`` (``down_payment.down_payment_key``, identical on every retry).
3. *finished* — one transaction: the PaymentIntent id is stored on the deal and the response on
   the key.

A retry after a crash between 1 and 3 resumes at ``booked`` and repeats 2: if Stripe had
already answered, the same idempotency key makes it return the PaymentIntent it created (for 24
hours), so the retry stores that one and the buyer is asked to pay once. (localstripe ignores
idempotency keys; the tests emulate Stripe's replay.)
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import events as deal_events
from dealer_portal import repository
from dealer_portal.decisions import gate
from dealer_portal.exceptions import DealAlreadyCancelled, DealNotFound, DealNotQuoted
from dealer_portal.funding.exceptions import VinAlreadyFinanced
from dealer_portal.handover.booking import book_deal_loan
from dealer_portal.handover.down_payment import DOWN_PAYMENT_PURPOSE, down_payment_key
from dealer_portal.models import DealerDeal, DealStatus
from dealer_portal.schemas import (
    ConfirmedDeal,
    ConfirmRequest,
    DownPaymentRequested,
)
from dealer_portal.views import deal_public
from marketplace.preapprovals import service as preapproval_service
from marketplace.servicing import repository as servicing_repository
from marketplace.servicing.exceptions import LoanAlreadyBooked
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
from shared.payments.gateway import PaymentGateway

BOOKED = "booked"


async def _current_status(session: AsyncSession, dealer: Principal, deal_id: uuid.UUID) -> str:
    deal = await repository.get_deal(session, deal_id, dealer_id=dealer.org_id)
    if deal is None:
        raise DealNotFound()
    return deal.status


async def confirm_and_book(
    session: AsyncSession,
    dealer: Principal,
    deal_id: uuid.UUID,
    body: ConfirmRequest,
    now: datetime,
) -> DealerDeal:
    """Confirm's phase 1 (*booked*), in one transaction: deal confirmed, approval consumed, loan
    booked.

    Only flushes; the caller's phase commits it all together or nothing.
    """
    confirmation = await repository.confirm_quoted(
        session, deal_id, dealer_id=dealer.org_id, verified_by=dealer.actor, now=now
    )
    if confirmation is None:
        status = await _current_status(session, dealer, deal_id)
        raise DealNotQuoted(f"This deal is {status}; only a quoted deal can be confirmed.")
    confirmed = confirmation.deal
    # Never read-then-write: the conditional update decides which confirm wins the approval.
    await preapproval_service.consume(session, dealer, confirmed.preapproval_id, now)
    try:
        loan = await book_deal_loan(
            session,
            dealer,
            confirmed,
            principal=confirmed.principal,
            annual_rate=confirmed.annual_rate,
            term_months=confirmed.term_months,
            auto_fund=confirmation.auto_fund,
            loan_date=now.date(),
        )
    except LoanAlreadyBooked:
        # The approval was just consumed by this transaction, so the only live loan this
        # booking can collide with is another one on the same car.
        if await servicing_repository.live_loan_on_vin(session, confirmed.vin):
            raise VinAlreadyFinanced() from None
        raise
    booked = await repository.attach_loan(session, deal_id, loan.id, now)
    assert booked is not None
    if not confirmation.auto_fund:
        booked = await gate.start_decision(session, dealer, booked, confirmation.auto_approve, now)
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
    session: AsyncSession, deal_id: uuid.UUID, payment_intent_id: str, amount: int, now: datetime
) -> repository.StoredIntent:
    """Confirm's phase 3 (*finished*): the PaymentIntent id on the deal (the same one on every
    retry), for a down payment of ``amount``; the deal and its buyer's name."""
    # The audit entry goes in the storing statement; if nothing is stored the phase raises
    # and rolls it back.
    requested = audit.insert(
        audit.entry(
            actor=audit.SYSTEM_ACTOR,
            action="deal.down_payment_requested",
            subject_type="deal",
            subject_id=deal_id,
            after={"payment_intent_id": payment_intent_id, "amount": amount},
        )
    )
    stored = await repository.store_payment_intent(
        session, deal_id, payment_intent_id, now, along=[requested]
    )
    if stored is None:
        if await repository.status_of(session, deal_id) == DealStatus.cancelled:
            # Cancelled while Stripe was being asked: the client secret is never handed out,
            # so nobody can pay this PaymentIntent.
            raise DealAlreadyCancelled(variant="while_confirming")
        raise RuntimeError(f"deal {deal_id} already holds another down-payment PaymentIntent")
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
                stored = await store_down_payment(
                    session, deal_id, intent.id, int(run.data["amount"]), utcnow()
                )
                answer = ConfirmedDeal(
                    deal=deal_public(stored.deal, stored.buyer_name),
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
