"""Refusals about a loan's collateral registration and release; each has a stable code."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, Unprocessable


class CollateralNotFound(NotFound):
    """The loan has no collateral record: it has not been funded (or was funded before
    collateral was tracked)."""

    code = "collateral_not_found"
    message = "This loan has no collateral registration to show."


class CollateralNotOpen(Conflict):
    """The registration is owed after funding; the deal's loan is not funded yet."""

    code = "collateral_not_open"
    message = "The car is registered as collateral after the loan is funded; it is not funded yet."


class CollateralAlreadyRegistered(Conflict):
    """Another registration was recorded already (the same one again is answered as before)."""

    code = "collateral_already_registered"
    message = "A different registration is already recorded for this car."


class CollateralNotRegistrable(Conflict):
    """The loan was paid off before the registration: there is nothing to register."""

    code = "collateral_not_registrable"
    message = "The loan is closed; the registration is no longer needed."


class CollateralReleaseNotIssued(Conflict):
    """A release can be recorded only once the platform issued the release instructions."""

    code = "collateral_release_not_issued"
    message = "The release instructions have not been issued: the loan is not paid off."


class CollateralAlreadyReleased(Conflict):
    code = "collateral_already_released"
    message = "A different release is already recorded for this car."


class CollateralDateInvalid(Unprocessable):
    """A registration or release date in the future, or before the loan (or registration)."""

    code = "collateral_date_invalid"
    message = "The date must not be in the future."
