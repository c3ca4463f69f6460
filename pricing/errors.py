"""The one error type pricing raises for input a caller can fix."""

from __future__ import annotations


class PricingInputError(ValueError):
    """An input outside what pricing accepts; ``field`` names the request field to fix.

    It is a ``ValueError`` so plain callers need nothing special; the API layer turns ``code``,
    ``field`` and ``message`` into a 422 without parsing the text.
    """

    def __init__(self, field: str, message: str, code: str = "invalid_input") -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message
