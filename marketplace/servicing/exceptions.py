"""Servicing's refusals: small domain errors with a stable code each."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, Unprocessable


class LoanNotFound(NotFound):
    code = "loan_not_found"
    message = "No such loan."


class LoanAlreadyBooked(Conflict):
    code = "loan_already_booked"
    message = "A loan is already booked on this pre-approval."


class LoanNotPendingFunding(Conflict):
    code = "loan_not_pending_funding"
    message = "Only a loan waiting for funding can be funded."


class LoanAutoFunded(Conflict):
    code = "loan_auto_funded"
    message = "This loan's product funds it automatically at handover."


class LoanNotRepayable(Conflict):
    code = "loan_not_repayable"
    message = "This loan is not active, so it takes no payments."


class NoPaymentMethod(Conflict):
    code = "no_payment_method"
    message = "Save a card first (POST /v1/buyer/payment-methods)."


class AmountExceedsPayoff(Unprocessable):
    code = "amount_exceeds_payoff"
    message = "That is more than what closes the loan; pay it off instead."


class TooManyInstallments(Unprocessable):
    code = "too_many_installments"
    message = "The loan has fewer unpaid instalments than that."


class PayoffDateInvalid(Unprocessable):
    code = "payoff_date_invalid"
    message = "The payoff date cannot be before the loan date."


class PaymentMethodRejected(Unprocessable):
    code = "payment_method_rejected"
    message = "The payment method could not be saved; check it and try again."


class PaymentInProgress(Conflict):
    code = "payment_in_progress"
    message = "Another payment on this loan is still being processed; try again shortly."


class PaymentAbandoned(Conflict):
    code = "payment_abandoned"
    message = (
        "This payment never reached the card network and was abandoned; nothing was charged."
        " Ask for a new payment."
    )
