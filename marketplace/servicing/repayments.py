"""Repayments: saving the buyer's card, charging it, and crediting what Stripe collected.

A repayment runs as atomic phases (``request_payment``; the phase mechanics are explained once,
in ``shared.idempotency``). It is credited by ``apply_succeeded_payment`` — from the
``payment_intent.succeeded`` webhook, from the request's last phase when Stripe already answered
``succeeded``, or from the reconciliation — whichever comes first: the payment's conditional
``processing → succeeded`` lets exactly one of them credit it. Every transaction here locks the
loan before its payments and instalments (``repository.lock_loan_of_payment``), so repayments
and webhooks of one loan queue behind each other instead of deadlocking.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing import ledger, repository, service
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
    LedgerEntryType,
    Loan,
    LoanPayment,
    LoanStatus,
    PaymentKind,
    PaymentProfile,
    PaymentStatus,
)
from shared import audit
from shared.db import utcnow
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
from shared.observability import event
from shared.payments.gateway import PaymentDeclined, PaymentGateway, SavedPaymentMethod

REPAYMENT_PURPOSE = "repayment"
PAYMENT_CREATED = "payment_created"
INTENT_STORED = "intent_stored"


def today() -> date:
    return utcnow().date()


# -- the saved card --------------------------------------------------------------------------


async def save_payment_method(
    session: AsyncSession, gateway: PaymentGateway, buyer: Principal, payment_method_id: str
) -> SavedPaymentMethod:
    """Attach a card to the buyer's Stripe customer (created once) as the repayment default.

    Stripe is called outside any transaction: the request's session commits before each call
    and each write commits on its own."""
    buyer_id = buyer.uid
    profile = await repository.get_profile(session, buyer_id)
    await session.commit()
    if profile is None:
        customer = await gateway.create_customer(
            idempotency_key=f"buyer-{buyer_id}-customer", metadata={"buyer_id": str(buyer_id)}
        )
        # A concurrent first save may have won; its customer is the buyer's from now on.
        profile = await repository.add_profile(session, buyer_id, customer.id)
        await session.commit()
    saved = await gateway.attach_payment_method(
        customer_id=profile.stripe_customer_id, payment_method_id=payment_method_id
    )
    await repository.set_default_card(
        session,
        buyer_id,
        payment_method_id=saved.id,
        card_brand=saved.card_brand,
        card_last4=saved.card_last4,
    )
    audit.record(
        session,
        actor=buyer,
        action="payment_method.saved",
        subject_type="buyer",
        subject_id=buyer_id,
        after={"payment_method_id": saved.id},
    )
    event("payment_method.saved", buyer_id=str(buyer_id))
    return saved


# -- asking for a payment --------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    installments: int | None
    payoff: bool


def _amount_for_installments(rows: list[Installment], count: int, in_flight: int) -> int:
    """The next ``count`` unsettled instalments (fees included), after the amounts of
    payments still in flight, which will settle the oldest first."""
    owed = [service.installment_owed(r) for r in rows if r.status != InstallmentStatus.paid]
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
    loan = await repository.get_loan(session, loan_id, buyer_id=buyer.uid, for_update=True)
    if loan is None:
        raise LoanNotFound()
    if loan.status != LoanStatus.active:
        raise LoanNotRepayable()
    profile = await repository.get_profile(session, buyer.uid)
    if profile is None or profile.payment_method_id is None:
        raise NoPaymentMethod()
    rows = await repository.installments(session, loan.id)
    in_flight = sum(p.amount for p in await repository.processing_payments(session, loan.id))
    on = today()
    payoff = service.payoff_for(loan, rows, max(on, loan.loan_date))
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
                    await apply_succeeded_payment(tx, payment_id)
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
        await mark_payment_failed(tx, payment_id, failure_code=declined.code)
        return StoredResponse(declined.status_code, declined.body())

    return phase


# -- crediting -------------------------------------------------------------------------------


async def mark_payment_failed(
    session: AsyncSession,
    payment_id: uuid.UUID,
    *,
    failure_code: str | None,
    without_intent: bool = False,
) -> bool:
    """``processing → failed`` once (and, with ``without_intent``, only if no PaymentIntent was
    stored for it); False if it was already settled."""
    await repository.lock_loan_of_payment(session, payment_id)
    payment = await repository.settle_payment(
        session,
        payment_id,
        new=PaymentStatus.failed,
        without_intent=without_intent,
        failure_code=(failure_code or "failed")[:64],
    )
    if payment is None:
        return False
    audit.record(
        session,
        actor=audit.SYSTEM_ACTOR,
        action="loan_payment.failed",
        subject_type="loan",
        subject_id=payment.loan_id,
        after={"payment_id": str(payment_id), "failure_code": payment.failure_code},
    )
    event("loan_payment.failed", payment_id=str(payment_id), loan_id=str(payment.loan_id))
    return True


async def apply_succeeded_payment(
    session: AsyncSession, payment_id: uuid.UUID, *, payment_intent_id: str | None = None
) -> bool:
    """Credit a collected payment to its loan, exactly once; False if it was already settled.

    Fees of the oldest unpaid instalment first, then that instalment, then the next; a payoff
    that covers everything closes the loan."""
    loan = await repository.lock_loan_of_payment(session, payment_id)
    payment = await repository.settle_payment(
        session, payment_id, new=PaymentStatus.succeeded, payment_intent_id=payment_intent_id
    )
    if loan is None or payment is None:
        return False
    rows = await repository.installments(session, loan.id, for_update=True)
    on = max(today(), loan.delinquency_as_of or loan.loan_date)
    closed = False
    if loan.status != LoanStatus.active:
        # Money arrived for a loan that is closed: it stays in the ledger as a credit owed back.
        await _ledger_payment(session, loan, payment, LedgerEntryType.payment, on)
        event("loan_payment.unapplied", payment_id=str(payment.id), loan_id=str(loan.id))
    elif (
        payment.kind == PaymentKind.payoff
        and payment.payoff_on is not None
        and (payment.amount >= service.payoff_for(loan, rows, payment.payoff_on).amount)
    ):
        await _settle_payoff(session, loan, rows, payment.payoff_on)
        await _ledger_payment(session, loan, payment, LedgerEntryType.payoff, payment.payoff_on)
        closed = True
    else:
        await _allocate(session, loan, rows, payment.amount, on)
        await _ledger_payment(session, loan, payment, LedgerEntryType.payment, on)
        closed = all(r.status == InstallmentStatus.paid for r in rows)
    if loan.status == LoanStatus.active:
        days = service.days_past_due(rows, on)
        loan.days_past_due, loan.bucket = days, service.bucket_for(days)
    await session.flush()
    audit.record(
        session,
        actor=audit.SYSTEM_ACTOR,
        action="loan_payment.credited",
        subject_type="loan",
        subject_id=loan.id,
        after={"payment_id": str(payment.id), "amount": payment.amount},
    )
    if closed:
        paid_off = await repository.transition(
            session,
            loan.id,
            expected=LoanStatus.active,
            new=LoanStatus.paid_off,
            closed_at=utcnow(),
            days_past_due=0,
            bucket="current",
        )
        if paid_off is not None:
            audit.record(
                session,
                actor=audit.SYSTEM_ACTOR,
                action="loan.paid_off",
                subject_type="loan",
                subject_id=loan.id,
                before={"status": LoanStatus.active.value},
                after={"status": LoanStatus.paid_off.value, "payment_id": str(payment.id)},
            )
    await session.flush()
    event("loan_payment.credited", payment_id=str(payment.id), loan_id=str(loan.id))
    return True


async def _ledger_payment(
    session: AsyncSession,
    loan: Loan,
    payment: LoanPayment,
    entry_type: LedgerEntryType,
    on: date,
) -> None:
    key = ledger.payoff_key if entry_type == LedgerEntryType.payoff else ledger.payment_key
    await ledger.append(
        session,
        loan_id=loan.id,
        entry_type=entry_type,
        entry_key=key(payment.id),
        amount=-payment.amount,
        effective_date=on,
        payment_id=payment.id,
    )


async def charge_interest(
    session: AsyncSession, loan: Loan, row: Installment, amount: int, on: date
) -> None:
    """Charge ``amount`` of interest on an instalment, once (its ledger key is unique)."""
    if row.interest_charged is not None:
        return
    if amount > 0:
        await ledger.append(
            session,
            loan_id=loan.id,
            entry_type=LedgerEntryType.instalment_due,
            entry_key=ledger.instalment_due_key(row.n),
            amount=amount,
            effective_date=on,
            installment_n=row.n,
        )
    row.interest_charged = amount


async def _allocate(
    session: AsyncSession, loan: Loan, rows: list[Installment], amount: int, on: date
) -> None:
    remaining = amount
    now = utcnow()
    for row in rows:
        if remaining <= 0:
            break
        if row.status == InstallmentStatus.paid:
            continue
        fee = min(service.fee_owed(row), remaining)
        row.late_fee_paid += fee
        remaining -= fee
        if remaining <= 0:
            break
        # Paying an instalment before it falls due pays its scheduled interest.
        await charge_interest(session, loan, row, row.interest, min(row.due_date, on))
        assert row.interest_charged is not None
        part = min(row.principal + row.interest_charged - row.paid_amount, remaining)
        row.paid_amount += part
        remaining -= part
        if service.installment_owed(row) == 0:
            row.status = InstallmentStatus.paid
            row.paid_at = now
    if remaining > 0:
        event("loan_payment.overpaid", loan_id=str(loan.id), amount=remaining)


async def _settle_payoff(
    session: AsyncSession, loan: Loan, rows: list[Installment], on: date
) -> None:
    now = utcnow()
    for row in rows:
        if row.status == InstallmentStatus.paid:
            continue
        if row.interest_charged is None:
            interest = service.interest_to_payoff(loan, rows, row.n, on)
            await charge_interest(session, loan, row, interest, min(row.due_date, on))
        assert row.interest_charged is not None
        row.late_fee_paid = row.late_fee
        row.paid_amount = row.principal + row.interest_charged
        row.status = InstallmentStatus.paid
        row.paid_at = now


__all__ = [
    "REPAYMENT_PURPOSE",
    "PaymentRequest",
    "apply_succeeded_payment",
    "charge_interest",
    "mark_payment_failed",
    "request_payment",
    "save_payment_method",
]
