"""Funding: the lender's money reaches the dealer once the product's gates hold — see
``service`` for the state machine and ``payouts`` for how the transfer is made exactly once."""
