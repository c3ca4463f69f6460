"""The dealer's part of the car's collateral (see ``marketplace.collateral``): record the
registration of a funded deal's car, and its release after payoff, through the deal."""
