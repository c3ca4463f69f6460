"""The dealer handover, one module per responsibility: ``confirmation`` (confirm a quoted deal
exactly once: the approval consumed, the loan booked, the down payment asked of Stripe),
``booking`` (a deal's loan, booked at confirmation and again after an accepted counter-offer),
``cancellation`` (cancel before handover, refunding a paid down payment) and ``down_payment``
(the purpose and the Stripe idempotency keys derived from the deal). Both flows run as atomic
phases, explained once in ``shared.idempotency``. The names are re-exported here so callers say
``handover.<intent>``.

A positive down payment is required (the deal is refused at quote time otherwise): China's auto
loan rules cap the loan below the car's price, and the handover is signalled by the down
payment's ``payment_intent.succeeded`` webhook (``dealer_portal.webhooks``), so there is always
one PaymentIntent per confirmed deal.
"""

from __future__ import annotations

from dealer_portal.handover.booking import book_deal_loan
from dealer_portal.handover.cancellation import (
    cancel,
    cancel_before_handover,
    cancel_in_phases,
    settle_down_payment_after_cancel,
    store_refund,
)
from dealer_portal.handover.confirmation import confirm, confirm_and_book, store_down_payment
from dealer_portal.handover.down_payment import DOWN_PAYMENT_PURPOSE

__all__ = [
    "DOWN_PAYMENT_PURPOSE",
    "book_deal_loan",
    "cancel",
    "cancel_before_handover",
    "cancel_in_phases",
    "confirm",
    "confirm_and_book",
    "settle_down_payment_after_cancel",
    "store_down_payment",
    "store_refund",
]
