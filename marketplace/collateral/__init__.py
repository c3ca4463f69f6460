"""The car registered as the lender's collateral (抵押登记), and released (解押) at payoff.

In China a financed car is pledged to the lender at the vehicle administration office after
funding, because the pledge follows the licence plate; the dealer that sold the car is
answerable for getting it done within the product's ``collateral_days`` of funding::

    (loan active) ──► awaiting ──dealer records the registration──► registered
                         │  (jobs run, past due_on: overdue_at set, told once; registering
                         │   late is still accepted and recorded as late)
                         └──loan paid off first──► not_required
    registered ──loan paid off──► release_issued (instructions, zh + en)
               ──dealer records the release──► released

One row per loan (``loan_collateral``), created in the transaction that makes the loan active,
changed only by conditional updates with an audit entry and a webhook event each.
"""
