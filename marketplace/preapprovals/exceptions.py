from __future__ import annotations

from shared.errors import Conflict, NotFound


class PreapprovalNotFound(NotFound):
    code = "preapproval_not_found"
    message = "No such pre-approval."


class PreapprovalUnavailable(Conflict):
    """The approval cannot be used now; ``code`` says why (expired, consumed, cancelled)."""

    code = "preapproval_unavailable"
    message = "This pre-approval is no longer available."


class OfferNotFound(NotFound):
    code = "offer_not_found"
    message = "No such offer on this pre-approval."


def unavailable(status: str) -> PreapprovalUnavailable:
    """The refusal for an approval whose effective status is ``status``."""
    messages = {
        "expired": ("approval_expired", "This pre-approval has expired."),
        "consumed": ("approval_consumed", "This pre-approval has already financed a car."),
        "cancelled": ("approval_cancelled", "This pre-approval was cancelled."),
    }
    code, message = messages.get(
        status, ("preapproval_unavailable", PreapprovalUnavailable.message)
    )
    return PreapprovalUnavailable(message, code=code)
