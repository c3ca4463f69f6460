"""Pricing's refusals in the reader's language: pricing stays pure and speaks English for logs
and ``why`` lists; the API writes its codes again from the ``errors`` catalogue."""

from __future__ import annotations

from pricing import PricingInputError, Rejection
from shared import i18n
from shared.errors import Unprocessable


def invalid_input(error: PricingInputError, *, field: str | None = None) -> Unprocessable:
    """A 422 for input pricing refused; its message is the one for that field
    (``invalid_input.<field>``) where the catalogue has one."""
    shown = field or error.field
    return Unprocessable(
        error.message, code=error.code, field=shown, variant=error.field, params={"field": shown}
    )


def rejection_message(rejection: Rejection, locale: str | None = None) -> str:
    """Why a product is not offered, in the reader's language, with its figures."""
    return i18n.error_text(rejection.code, rejection.message, locale, **dict(rejection.params))
