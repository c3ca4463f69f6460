from __future__ import annotations

from shared.errors import Conflict, NotFound, Unprocessable


class ApplicationNotFound(NotFound):
    code = "application_not_found"
    message = "No such application."


class ConsentRequired(Unprocessable):
    code = "consent_required"
    message = "A credit-bureau pull needs the applicant's consent (consent.bureau_pull: true)."


class AgeMismatch(Unprocessable):
    code = "age_mismatch"
    message = "The stated age does not match the birth date in the national ID number."


class AlreadyDecided(Conflict):
    code = "application_decided"
    message = "This application has already been decided."


class ApplicationRefused(Conflict):
    """One body for every reason an account may not apply for an ID (bound to another account,
    or holding an active pre-approval), so a refusal tells nothing about anyone else."""

    code = "application_refused"
    message = (
        "This application cannot be accepted for this account. An account applies only for its "
        "own national ID, and one person holds one active pre-approval."
    )

    def __init__(self, *, field: str = "national_id") -> None:
        super().__init__(field=field)


class IdentityMismatch(Unprocessable):
    code = "identity_mismatch"
    message = "The name, national ID and verified phone could not be confirmed as one person."


class ConsentNotFound(NotFound):
    code = "consent_not_found"
    message = "No such consent."


class ConsentNotWithdrawable(Conflict):
    code = "consent_not_withdrawable"
    message = "The bureau-pull authorisation was used when the application was decided."
