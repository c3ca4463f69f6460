"""The per-loan ledger: append-only entries, each written at most once, balances derived.

Signs are from the lender's side: a positive entry adds to what the borrower owes (the
principal disbursed, interest as it falls due, late fees), a negative one reduces it (payments,
the payoff, a charge-off). The sum of a loan's entries is its balance owed, to the fen.

Each entry has a key that names the business fact it records, unique per loan, so a job run
twice or a webhook delivered twice cannot write it twice:

=================  ==========================  =============================================
type               key                         amount
=================  ==========================  =============================================
disbursement       ``disbursement``            + principal
instalment_due     ``instalment_due:{n}``      + interest charged on instalment n
late_fee           ``late_fee:{n}``            + the late fee on instalment n
payment            ``payment:{payment_id}``    − a repayment credited
payoff             ``payoff:{payment_id}``     − the repayment that closed the loan
charge_off         ``charge_off``              − the balance written off (beyond a guarantee claim)
guarantee_claim    ``guarantee_claim``         − what the platform's guarantee paid the lender
recovery           ``recovery:{payment_id}``   + reinstates what a payment on a charged-off loan
                                               recovered (its ``payment`` entry takes it off)
=================  ==========================  =============================================

A late fee charged once has the key ``late_fee:{n}``; a daily-rate fee adds one entry a day,
``late_fee:{n}:{YYYY-MM-DD}``.

Appending entries and summing them is SQL, in ``servicing/repository/ledger.py``; this module
names the keys that SQL keeps unique.
"""

from __future__ import annotations

import uuid
from datetime import date


def disbursement_key() -> str:
    return "disbursement"


def instalment_due_key(n: int) -> str:
    return f"instalment_due:{n}"


def late_fee_key(n: int, on: date | None = None) -> str:
    return f"late_fee:{n}" if on is None else f"late_fee:{n}:{on.isoformat()}"


def payment_key(payment_id: uuid.UUID) -> str:
    return f"payment:{payment_id}"


def payoff_key(payment_id: uuid.UUID) -> str:
    return f"payoff:{payment_id}"


def charge_off_key() -> str:
    return "charge_off"


def guarantee_claim_key() -> str:
    return "guarantee_claim"


def recovery_key(payment_id: uuid.UUID) -> str:
    return f"recovery:{payment_id}"
