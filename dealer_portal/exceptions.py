"""The dealer portal's refusals; each carries its status and a stable code."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, Unprocessable


class ApprovalNotFound(NotFound):
    """An unknown code and a wrong verifier answer exactly alike, so neither can be probed."""

    code = "approval_not_found"
    message = "No pre-approval matches this code and verifier."


class DealNotFound(NotFound):
    code = "deal_not_found"
    message = "No such deal."


class DealNotQuoted(Conflict):
    code = "deal_not_quoted"
    message = "Only a quoted deal can be confirmed."


class DealNotCancellable(Conflict):
    code = "deal_not_cancellable"
    message = "A deal that was handed over cannot be cancelled."


class DealAlreadyCancelled(Conflict):
    code = "deal_already_cancelled"
    message = "This deal is already cancelled."


class DownPaymentProcessing(Conflict):
    code = "down_payment_processing"
    message = "The down payment is still being processed; retry the cancellation shortly."


class DealRefused(Unprocessable):
    """The car or the structure breaks one rule of the approval or the product; ``code``,
    ``message`` and ``field`` say which (``ltv_too_high``, ``used_car_term_too_long`` …)."""

    code = "deal_refused"
    message = "The deal does not fit the approval or the product."


class OfferNotOnApproval(Unprocessable):
    code = "offer_not_found"
    message = "No such offer on this pre-approval."


class ClaimInvalid(NotFound):
    code = "claim_invalid"
    message = "No unclaimed account matches this phone number and claim code."


class VinMakeMismatch(Unprocessable):
    """The VIN's manufacturer builds another brand than the deal's make: a subsidy (or a rate)
    must follow the real car."""

    code = "vin_make_mismatch"
    message = "The VIN belongs to a {vin_brand_en} car, not a {make_en} one."


class InvalidVin(Unprocessable):
    code = "invalid_vin"
    message = "This is not a VIN: 17 digits and capital letters other than I, O and Q."


class PaymentLinkNotFound(NotFound):
    """A malformed, unknown or wrong secret answer alike."""

    code = "payment_link_not_found"
    message = "This payment link is not valid."


class DownPaymentNotDue(Conflict):
    code = "down_payment_not_due"
    message = "This down payment is not awaiting payment."
