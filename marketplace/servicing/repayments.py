"""Repayments: asking for a payment on the buyer's saved card, as atomic phases (explained once
in ``shared.idempotency``; the steps are in ``request_payment``). What Stripe collects is
credited by ``crediting.apply_succeeded_payment`` — from the ``payment_intent.succeeded``
webhook, from the request's last phase when Stripe already answered ``succeeded``, or from the
reconciliation — whichever comes first: the payment's conditional ``processing → succeeded``
lets exactly one of them credit it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing import amounts, crediting, repository
from marketplace.servicing.exceptions import (
    AmountExceedsPayoff,
    LoanNotFound,
    LoanNotRepayable,
    NoPaymentMethod,
    PaymentInProgress,
    TooManyInstallments,
)
from marketplace.servicing.models import (
    Installment,
    InstallmentStatus,
    LoanPayment,
    LoanStatus,
    PaymentKind,
    PaymentProfile,
)
from shared import audit
from shared.db import today
from shared.idempotency import (
    STARTED,
    IdempotentRun,
    Phase,
    RecoveryPoint,
    StoredResponse,
    idempotency_scope,
    request_fingerprint,
)
from shared.identity.principal import Principal
from shared.payments.gateway import PaymentDeclined, PaymentGateway

REPAYMENT_PURPOSE = "repayment"
PAYMENT_CREATED = "payment_created"
INTENT_STORED = "intent_stored"


@dataclass(frozen=True)
class PaymentRequest:
    installments: int | None
    payoff: bool


def _amount_for_installments(rows: list[Installment], count: int, in_flight: int) -> int:
    """The next ``count`` unsettled instalments (fees included), after the amounts of
    payments still in flight, which will settle the oldest first."""
    owed = [amounts.installment_owed(r) for r in rows if r.status != InstallmentStatus.paid]
    while owed and in_flight > 0:
        taken = min(owed[0], in_flight)
        in_flight -= taken
        owed[0] -= taken
        if owed[0] == 0:
            owed.pop(0)
    if count > len(owed):
        raise TooManyInstallments(
            field="installments", variant="remaining", params={"remaining": len(owed)}
        )
    return sum(owed[:count])


async def start_payment(
    session: AsyncSession, buyer: Principal, loan_id: uuid.UUID, request: PaymentRequest
) -> tuple[LoanPayment, PaymentProfile]:
    """Write the ``processing`` payment row for what the buyer asked to pay (phase 1)."""
    found = await repository.repayable_loan(session, loan_id, buyer_id=buyer.uid)
    if found is None:
        raise LoanNotFound()
    loan, profile = found
    # A charged-off loan still takes instalment payments: they are recoveries.
    if loan.status not in (LoanStatus.active, LoanStatus.charged_off) or (
        request.payoff and loan.status == LoanStatus.charged_off
    ):
        raise LoanNotRepayable()
    if profile is None or profile.payment_method_id is None:
        raise NoPaymentMethod()
    rows, in_flight = await repository.installments_and_in_flight(session, loan.id)
    on = today()
    payoff = amounts.payoff_for(loan, rows, max(on, loan.loan_date))
    if request.payoff:
        if in_flight:
            raise PaymentInProgress()
        amount, kind = payoff.amount, PaymentKind.payoff
    else:
        assert request.installments is not None
        amount = _amount_for_installments(rows, request.installments, in_flight)
        kind = PaymentKind.installments
        if amount + in_flight > payoff.amount:
            raise AmountExceedsPayoff(
                field="installments", variant="today", params={"payoff_fen": payoff.amount}
            )
    if amount <= 0:
        raise LoanNotRepayable("Nothing is owed on this loan.", variant="nothing_owed")
    payment = LoanPayment(
        loan_id=loan.id,
        buyer_id=buyer.uid,
        kind=kind,
        installments=request.installments,
        payoff_on=payoff.on if request.payoff else None,
        amount=amount,
    )
    session.add(payment)
    audit.record(
        session,
        actor=buyer,
        action="loan_payment.requested",
        subject_type="loan",
        subject_id=loan.id,
        after={"payment_id": str(payment.id), "amount": amount, "kind": kind.value},
    )
    await session.flush()
    return payment, profile


async def request_payment(
    session: AsyncSession,
    gateway: PaymentGateway,
    buyer: Principal,
    loan_id: uuid.UUID,
    request: PaymentRequest,
    *,
    idempotency_key: str,
    path: str,
) -> tuple[StoredResponse, bool]:
    """Charge the buyer's saved card for a repayment, in atomic phases, replayable by key;
    the answer, and whether it is a replay of an earlier request's.

    1. *payment_created* — the ``processing`` payment row, its amount fixed under the loan's lock;
    2. Stripe creates the PaymentIntent **unconfirmed** (key ``loan-payment-{id}``);
    3. *intent_stored* — its id on the payment: from here on we know of every intent that can
       take money, so the reconciliation can always settle it from Stripe's record;
    4. Stripe confirms it (key ``loan-payment-{id}-confirm``), charging the card;
    5. the answer, crediting at once if Stripe already collected it.

    A crash between 2 and 3 leaves an intent nobody confirmed (no money moved) and a payment
    without one, which the reconciliation abandons; a crash after 4 leaves the charge on a
    stored intent, credited by the webhook or the reconciliation."""
    body = {"installments": request.installments, "payoff": request.payoff}
    async with IdempotentRun.begin(
        session,
        scope=idempotency_scope(buyer),
        key=idempotency_key,
        fingerprint=request_fingerprint("POST", path, body),
    ) as run:
        if run.response is None and run.recovery_point == STARTED:

            async def create(tx: AsyncSession) -> RecoveryPoint:
                payment, profile = await start_payment(tx, buyer, loan_id, request)
                return RecoveryPoint(
                    PAYMENT_CREATED,
                    {
                        "payment_id": str(payment.id),
                        "amount": payment.amount,
                        "customer_id": profile.stripe_customer_id,
                        "payment_method_id": profile.payment_method_id,
                    },
                )

            await run.phase(create)
        if run.response is None and run.recovery_point == PAYMENT_CREATED:
            payment_id = uuid.UUID(run.data["payment_id"])
            created = await gateway.create_payment_intent(
                amount=int(run.data["amount"]),
                idempotency_key=f"loan-payment-{payment_id}",
                metadata={
                    "purpose": REPAYMENT_PURPOSE,
                    "loan_id": str(loan_id),
                    "payment_id": str(payment_id),
                },
                customer_id=str(run.data["customer_id"]),
                payment_method_id=str(run.data["payment_method_id"]),
            )

            async def store_intent(tx: AsyncSession) -> RecoveryPoint:
                await repository.store_payment_intent(tx, payment_id, created.id)
                return RecoveryPoint(INTENT_STORED, {"payment_intent_id": created.id})

            await run.phase(store_intent)
        if run.response is None and run.recovery_point == INTENT_STORED:
            payment_id, intent_id = uuid.UUID(run.data["payment_id"]), run.data["payment_intent_id"]
            try:
                intent = await gateway.confirm_payment_intent(
                    intent_id, idempotency_key=f"loan-payment-{payment_id}-confirm"
                )
            except PaymentDeclined as exc:
                # A decline is the request's answer: the payment is failed, the refusal stored.
                await run.phase(_declined(payment_id, exc))
                assert run.response is not None
                return run.response, False

            async def answer(tx: AsyncSession) -> StoredResponse:
                if intent.succeeded:
                    await crediting.apply_succeeded_payment(tx, payment_id)
                return StoredResponse(
                    201,
                    {
                        "payment_id": str(payment_id),
                        "payment_intent_id": intent.id,
                        "amount": intent.amount,
                        "status": intent.status,
                    },
                )

            await run.phase(answer)
    assert run.response is not None
    return run.response, run.replayed


def _declined(payment_id: uuid.UUID, declined: PaymentDeclined) -> Phase:
    async def phase(tx: AsyncSession) -> StoredResponse:
        await crediting.mark_payment_failed(tx, payment_id, failure_code=declined.code)
        return StoredResponse(declined.status_code, declined.body())

    return phase
