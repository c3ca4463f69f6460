"""What identity's routes refuse: taken emails, phones and USCCs, unknown organisations and keys,
wrong credentials and SMS codes."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, Unauthorized, Unprocessable


class EmailTaken(Conflict):
    code = "email_taken"
    message = "An account with this email already exists."


class PhoneTaken(Conflict):
    code = "phone_taken"
    message = (
        "An account with this phone already exists: log in with the phone and a code "
        "(POST /v1/auth/phone-token)."
    )


class UsccTaken(Conflict):
    code = "uscc_taken"
    message = "An organisation with this unified social credit code already exists."


class OrganizationNotFound(NotFound):
    code = "organization_not_found"
    message = "No such organisation."


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    message = "No such live API key."


class WrongCredentials(Unauthorized):
    code = "invalid_credentials"
    # Deliberately does not say whether the email or the password was wrong.
    message = "Incorrect email or password."


class WrongPhoneCredentials(Unauthorized):
    code = "invalid_credentials"
    message = "Incorrect phone or code."


class SmsCodeInvalid(Unprocessable):
    code = "sms_code_invalid"
    message = "The code is wrong, has expired or was already used; request a new one."


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    message = "The credentials are not valid."
