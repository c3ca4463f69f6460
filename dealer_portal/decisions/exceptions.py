"""Refusals of the lender's decision, documents and the contract; each has a stable code."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, Unprocessable


class DecisionNotExpected(Conflict):
    """The deal is not waiting for this decision (already decided, cancelled, auto-funded…)."""

    code = "decision_not_expected"
    message = "This deal is not waiting for a decision."


class DecisionInvalid(Unprocessable):
    """A decision's body does not fit its kind (stipulations for conditions, a counter for a
    counter-offer, reasons for a decline)."""

    code = "decision_invalid"
    message = "The decision is missing what its kind needs."


class CounterOfferRefused(Unprocessable):
    """A counter-offer above the locked price or the fair band, or outside the product."""

    code = "counter_offer_refused"
    message = "The counter-offer is not allowed."


class NoCounterOffer(Conflict):
    code = "no_counter_offer"
    message = "This deal has no counter-offer waiting for an answer."


class StipulationNotFound(NotFound):
    code = "stipulation_not_found"
    message = "No such stipulation on this deal."


class StipulationNotReviewable(Conflict):
    code = "stipulation_not_reviewable"
    message = "This stipulation has no document waiting for review."


class DocumentNotFound(NotFound):
    code = "document_not_found"
    message = "No such document."


class DocumentRefused(Unprocessable):
    """Not a PDF, JPEG or PNG by its content, empty, or too large."""

    code = "document_refused"
    message = "Upload a PDF, JPEG or PNG file of at most {max_mb} MB."


class ContractNotAvailable(Conflict):
    code = "contract_not_available"
    message = "This loan has no contract to show or sign now."


class ContractChanged(Conflict):
    """The buyer signs the hash of what they saw; another hash means the contract changed."""

    code = "contract_changed"
    message = "The contract changed since you opened it; review the current one and sign again."


class ContractAlreadySigned(Conflict):
    code = "contract_already_signed"
    message = "This contract is already signed."


class InsuranceNotAccepted(Conflict):
    code = "insurance_not_accepted"
    message = "Insurance can only be recorded on a confirmed deal that waits for its lender."
