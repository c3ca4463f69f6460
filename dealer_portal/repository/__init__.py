"""SQL for deals and walk-in claims, one module per responsibility: ``deals`` (the dealer's deal
and pipelines, the one conditional update every change of a deal goes through, and the changes
before the money moves), ``down_payments`` (the down payment's changes and reads, by deal or
PaymentIntent id), ``related`` (the approval and the names the flows read) and ``walk_ins``
(claim codes). Every state change is one conditional UPDATE … RETURNING named for what it does:
of two racing callers, exactly one gets the row back. A dealer's reads and changes take the
dealer as a required argument; the rest act by deal id alone and say so. The names are
re-exported here so callers say ``repository.<intent>``."""

from __future__ import annotations

from dealer_portal.repository.deals import (
    Confirmed,
    attach_loan,
    cancel_open,
    confirm_quoted,
    get_deal,
    insert_deal,
    list_deals,
    list_lender_deals,
    status_of,
    update_where,
)
from dealer_portal.repository.down_payments import (
    StoredIntent,
    deal_paid_by,
    deals_awaiting_down_payment,
    deals_owed_a_refund,
    mark_down_payment_failed,
    mark_down_payment_paid,
    mark_handed_over,
    mark_refund_due,
    store_payment_intent,
    store_refund,
)
from dealer_portal.repository.related import (
    ApprovalFound,
    approval_and_buyer,
    buyer_names,
    organization_name,
)
from dealer_portal.repository.walk_ins import replace_claim, use_claim

__all__ = [
    "ApprovalFound",
    "Confirmed",
    "StoredIntent",
    "approval_and_buyer",
    "attach_loan",
    "buyer_names",
    "cancel_open",
    "confirm_quoted",
    "deal_paid_by",
    "deals_awaiting_down_payment",
    "deals_owed_a_refund",
    "get_deal",
    "insert_deal",
    "list_deals",
    "list_lender_deals",
    "mark_down_payment_failed",
    "mark_down_payment_paid",
    "mark_handed_over",
    "mark_refund_due",
    "organization_name",
    "replace_claim",
    "status_of",
    "store_payment_intent",
    "store_refund",
    "update_where",
    "use_claim",
]
