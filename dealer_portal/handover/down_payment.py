"""The down payment as Stripe knows it: the ``purpose`` our PaymentIntents carry, and the Stripe
idempotency keys made from the deal's id, the same on every retry of a phase, so a repeated call
gets Stripe's first answer back (one PaymentIntent, one cancellation, one refund per deal)."""

from __future__ import annotations

import uuid

DOWN_PAYMENT_PURPOSE = "down_payment"


def down_payment_key(deal_id: uuid.UUID) -> str:
    return f"deal-{deal_id}-down-payment"


def cancel_key(deal_id: uuid.UUID) -> str:
    return f"deal-{deal_id}-down-payment-cancel"


def refund_key(deal_id: uuid.UUID) -> str:
    return f"deal-{deal_id}-refund"
