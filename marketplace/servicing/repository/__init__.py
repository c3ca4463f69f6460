"""Servicing's SQL, one module per responsibility: ``loans`` (loans and instalments as their
owners read them, status transitions, funding's checks), ``payments`` (a repayment's lock
order and settlement), ``profiles`` (saved cards), ``ledger`` (the per-loan ledger) and
``delinquency`` (what the delinquency pass holds and writes). Reads a tenant makes are scoped
by a required argument (the buyer's or the lender's id). The names are re-exported here so
callers say ``repository.<intent>``."""

from __future__ import annotations

from marketplace.servicing.repository.delinquency import (
    LoanStanding,
    collection_terms,
    due_unpaid_installments,
    loans_to_service,
    lock_active_loans,
    set_delinquency,
)
from marketplace.servicing.repository.ledger import (
    NewLedgerEntry,
    append_ledger_entries,
    append_ledger_entry,
    ledger_balance,
    ledger_balances,
    ledger_entries,
)
from marketplace.servicing.repository.loans import (
    LoanShown,
    book_schedule,
    buyer_loan,
    buyer_loan_shown,
    buyer_loans,
    installments,
    installments_of,
    lender_loan,
    lender_loans,
    live_loan_on_vin,
    loan_for_platform,
    loan_owners,
    organization_names,
    portfolio_groups,
    set_due_dates,
    transition,
)
from marketplace.servicing.repository.payments import (
    get_payment,
    installments_and_in_flight,
    lock_loan_of_payment,
    repayable_loan,
    settle_payment,
    stalled_payments,
    store_payment_intent,
)
from marketplace.servicing.repository.profiles import (
    add_profile,
    get_profile,
    set_default_card,
)

__all__ = [
    "LoanStanding",
    "NewLedgerEntry",
    "book_schedule",
    "add_profile",
    "append_ledger_entries",
    "append_ledger_entry",
    "LoanShown",
    "buyer_loan",
    "buyer_loan_shown",
    "buyer_loans",
    "collection_terms",
    "due_unpaid_installments",
    "get_payment",
    "get_profile",
    "installments",
    "installments_of",
    "ledger_balance",
    "ledger_balances",
    "ledger_entries",
    "lender_loan",
    "lender_loans",
    "live_loan_on_vin",
    "loan_for_platform",
    "loan_owners",
    "loans_to_service",
    "lock_active_loans",
    "lock_loan_of_payment",
    "organization_names",
    "portfolio_groups",
    "installments_and_in_flight",
    "repayable_loan",
    "set_default_card",
    "set_delinquency",
    "set_due_dates",
    "settle_payment",
    "stalled_payments",
    "store_payment_intent",
    "transition",
]
