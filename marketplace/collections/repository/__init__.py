"""Collections' SQL, one module per responsibility: ``mandates``, ``debits`` (attempts),
``notices``, ``queue`` (the collection queue and its notes) and ``guarantee`` (claims and the
reserve). Every read a tenant makes is scoped by a required argument (the buyer's, the lender's
or the advisor's id). The names are re-exported here so callers say ``repository.<intent>``."""

from __future__ import annotations

from marketplace.collections.repository.debits import (
    AttemptView,
    attempts,
    attempts_with_outcome,
    has_processing_payment,
    loans_to_debit,
)
from marketplace.collections.repository.guarantee import (
    ReserveFigures,
    add_guarantee_entry,
    guaranteed_exposure,
    lender_reserve_figures,
    mirror_recoveries,
    provision_reserve,
    recent_claims,
    reserve_figures_for_platform,
)
from marketplace.collections.repository.mandates import (
    active_mandate,
    active_mandate_for_platform,
    revoke_mandate,
)
from marketplace.collections.repository.notices import (
    DueRow,
    claim_pending_notices,
    failed_attempts_without_notice,
    finish_notice,
    loan_notices,
    mandate_locales,
    notices_of,
    phones_of,
    record_notices,
    reminder_candidates,
)
from marketplace.collections.repository.queue import (
    AdvisorQueue,
    Arrears,
    LenderQueue,
    QueueScope,
    active_mandate_loans,
    arrears_of,
    last_contacts,
    latest_promises,
    ledger_balances,
    notes_of,
    queue_buckets,
    queue_loan,
    queue_page,
)

__all__ = [
    "AdvisorQueue",
    "Arrears",
    "LenderQueue",
    "QueueScope",
    "AttemptView",
    "DueRow",
    "ReserveFigures",
    "active_mandate",
    "active_mandate_for_platform",
    "active_mandate_loans",
    "add_guarantee_entry",
    "arrears_of",
    "attempts",
    "attempts_with_outcome",
    "claim_pending_notices",
    "failed_attempts_without_notice",
    "finish_notice",
    "guaranteed_exposure",
    "has_processing_payment",
    "last_contacts",
    "latest_promises",
    "ledger_balances",
    "loan_notices",
    "loans_to_debit",
    "lender_reserve_figures",
    "mandate_locales",
    "mirror_recoveries",
    "notes_of",
    "notices_of",
    "phones_of",
    "provision_reserve",
    "queue_buckets",
    "queue_loan",
    "queue_page",
    "recent_claims",
    "record_notices",
    "reminder_candidates",
    "reserve_figures_for_platform",
    "revoke_mandate",
]
