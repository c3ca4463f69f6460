"""The lender's final decision on a deal and the signed loan contract, for products with
``auto_fund: false`` (products that auto-fund — the default — never enter this: their deal's
``decision_status`` stays NULL and the down payment hands the car over, as before).

The decision (``dealer_deals.decision_status``)::

    (confirm) ──auto_approve matches─────────────────────────────► approved
        └──► decision_required ──approve──────────────────────────► approved
             (SLA clock: due_at) ──conditions──► conditions ──last stipulation satisfied──► approved
                                 ──counter──► countered ──buyer accepts (loan re-booked)──► approved
                                 ──decline────────────────────────► declined
             conditions ──decline──► declined;  countered ──buyer declines──► declined

    stipulation: pending ──upload──► submitted ──lender──► satisfied
                                              └──lender──► rejected (reason) ──upload──► submitted
                 (a lender may also mark a pending stipulation satisfied, seen in person)

A ``declined`` deal is cancelled in the same transaction exactly as the dealer's ``/cancel``
does (``handover.cancel_in_phases``: loan cancelled, credit returned, then the down payment's
PaymentIntent cancelled or refunded outside any transaction).

The deal (``dealer_deals.status``) of such a product::

    quoted ──confirm──► confirmed ──(approved ∧ contract signed ∧ down payment paid)──► handed_over
                            └──cancel / decline / counter declined──► cancelled

The contract can be read from confirmation on and signed once the decision is ``conditions``
or ``approved`` (the terms are final then); an accepted counter-offer books a new loan (the old
one is cancelled), so its contract is a new document with a new hash and needs its own
signature. The loan stays ``pending_funding`` after the handover: the lender funds it
(``POST /v1/lender/loans/{id}/fund``; its gates are issue #19's).

**Races.** Every transition is a conditional UPDATE of the deal row (``WHERE decision_status =
…``), so of racing decisions exactly one wins and the others get 409. The three handover
conditions are each changed on the deal row itself (``decision_status``,
``contract_signed_at``, ``down_payment_status``), and every step that changes one then runs
``hand_over_when_ready`` — a conditional UPDATE requiring all three and ``status =
'confirmed'``. Two such steps touching the same row queue on its lock; the later one runs its
check after the earlier commits (READ COMMITTED takes a fresh snapshot per statement), so the
last condition met hands the car over, exactly once. Stipulation reviews lock the deal row
first, so the review of the last open stipulation always sees the others satisfied.
"""
