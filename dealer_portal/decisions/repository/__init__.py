"""SQL for the lender's decision, one module per responsibility: ``deals`` (the reads every step
starts from, each scoped by its tenant as a required argument, and the lender's and buyer's
lists), ``transitions`` (the decision's changes of state, each one conditional UPDATE …
RETURNING: of racing callers exactly one gets the row), ``stipulations``, ``documents`` (and
the contract's signature) and ``related`` (the product version, locked offer and users they
read). The names are re-exported here so callers say ``repository.<intent>``."""

from __future__ import annotations

from dealer_portal.decisions.repository.deals import (
    deal_for_buyer,
    deal_for_dealer,
    deal_for_lender,
    deal_of_loan_for_buyer,
    list_for_buyer,
    list_for_lender,
)
from dealer_portal.decisions.repository.documents import document, documents_of, signature_of
from dealer_portal.decisions.repository.related import (
    locked_offer,
    product_version,
    user,
)
from dealer_portal.decisions.repository.stipulations import (
    review_stipulation,
    stipulation,
    stipulations_of,
    submit_stipulation,
)
from dealer_portal.decisions.repository.transitions import (
    accept_counter_offer,
    approve_when_stipulations_satisfied,
    decline_by_lender,
    decline_counter_offer,
    hand_over_when_ready,
    mark_contract_signed,
    record_decision,
    record_insurance,
    replace_loan,
    start_decision,
)

__all__ = [
    "accept_counter_offer",
    "approve_when_stipulations_satisfied",
    "deal_for_buyer",
    "deal_for_dealer",
    "deal_for_lender",
    "deal_of_loan_for_buyer",
    "decline_by_lender",
    "decline_counter_offer",
    "document",
    "documents_of",
    "hand_over_when_ready",
    "list_for_buyer",
    "list_for_lender",
    "locked_offer",
    "mark_contract_signed",
    "product_version",
    "record_decision",
    "record_insurance",
    "replace_loan",
    "review_stipulation",
    "signature_of",
    "start_decision",
    "stipulation",
    "stipulations_of",
    "submit_stipulation",
    "user",
]
