"""How money is collected from a mandate: one interface, one adapter per rail.

A ``Collector`` takes a debit in two steps so that we always know of an order before it can
take money (the repayment flow's rule, ``marketplace.servicing.repayments``):

1. ``prepare`` registers the debit with the rail, **unconfirmed**, under an idempotency key made
   from our ids (``loan-{loan}-instalment-{n}-attempt-{k}``) and answers its reference; the caller
   stores that reference on the payment and commits;
2. ``execute`` submits it (key ``…-confirm``): the rail takes the money or refuses.

The outcome reaches the loan exactly as a buyer's own repayment does: the ``loan_payments`` row
is credited once by ``crediting.apply_succeeded_payment`` — from ``execute``'s answer, the
webhook, or the reconciliation, whichever comes first — and its PaymentIntent carries
``metadata.purpose = "repayment"``, so the existing webhook handlers and the reconciliation settle
it with no code of their own.

**Stripe** (``StripeCollector``, here): a PaymentIntent on the buyer's customer and the mandate's
card, created unconfirmed, then confirmed *off-session* — the buyer is not there, so Stripe may
use the merchant-initiated exemption, and a card that wants authentication comes back
``requires_action``: not charged, handled as a failed attempt. (localstripe refuses any parameter
on confirm, so against the emulator the confirm is sent without ``off_session``; see
``PaymentGateway.confirm_payment_intent``.)

**China, in production**: a bank or UnionPay withholding agreement (代扣协议) signed with the
buyer's debit card (签约 returns an agreement number, ``Mandate.payment_method_ref``). ``prepare``
would create the withholding order with our key as the merchant order number (商户订单号, unique
per merchant, so the rail itself refuses a second order under it) and ``execute`` submit it
(代扣交易); the asynchronous result notice (异步通知) plays the webhook's part and the order
query (订单查询) the reconciliation's. That adapter implements the same two methods; nothing
else changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from shared.payments.gateway import PaymentDeclined, PaymentGateway


@dataclass(frozen=True)
class DebitOrder:
    """What to collect, from whom, under which key."""

    amount: int
    idempotency_key: str
    customer_ref: str
    payment_method_ref: str
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class DebitOutcome:
    reference: str
    succeeded: bool
    status: str
    failure_code: str | None = None


class Collector(Protocol):
    name: str

    async def prepare(self, order: DebitOrder) -> str:
        """Register the debit, not yet taking money; its reference at the rail."""

    async def execute(self, reference: str, *, idempotency_key: str) -> DebitOutcome:
        """Submit a prepared debit. A refusal (declined, needs the buyer) is an outcome with
        ``succeeded=False``; a rail that cannot be reached raises (retry later, same key)."""


class StripeCollector:
    """Off-session card debits through the one Stripe gateway."""

    name = "stripe"

    def __init__(self, gateway: PaymentGateway) -> None:
        self._gateway = gateway

    async def prepare(self, order: DebitOrder) -> str:
        intent = await self._gateway.create_payment_intent(
            amount=order.amount,
            idempotency_key=order.idempotency_key,
            metadata=order.metadata,
            customer_id=order.customer_ref,
            payment_method_id=order.payment_method_ref,
        )
        return intent.id

    async def execute(self, reference: str, *, idempotency_key: str) -> DebitOutcome:
        try:
            intent = await self._gateway.confirm_payment_intent(
                reference, idempotency_key=idempotency_key, off_session=True
            )
        except PaymentDeclined as declined:
            return DebitOutcome(
                reference, succeeded=False, status="declined", failure_code=declined.variant
            )
        return DebitOutcome(
            reference,
            succeeded=intent.succeeded,
            status=intent.status,
            failure_code=None if intent.succeeded else intent.status,
        )
