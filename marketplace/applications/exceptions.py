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


class PreapprovalAlreadyActive(Conflict):
    code = "preapproval_active"


class AlreadyDecided(Conflict):
    code = "application_decided"
    message = "This application has already been decided."
