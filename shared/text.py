"""Which characters text may hold.

PostgreSQL cannot store NUL in text (the driver raises, which was a 500), and no field of
ours means a control character: they are refused with 422 wherever text comes in — request
bodies (``shared.schemas.RequestModel``), forms, paths and query strings
(``shared.web.limits``). Free text keeps tab and line breaks; paths and queries keep none.
"""

from __future__ import annotations

import re

# C0 controls but tab, line feed and carriage return; DEL; the C1 controls.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_ANYWHERE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The same rule as a JSON-schema pattern, so generated requests and readers know it.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
CONTROL_CHARACTERS_MESSAGE = "text may not contain control characters"


def has_control_character(value: str, *, allow_line_breaks: bool = False) -> bool:
    pattern = _CONTROL_IN_TEXT if allow_line_breaks else _CONTROL_ANYWHERE
    return pattern.search(value) is not None


def refuse_control_characters(value: str) -> str:
    """A pydantic validator: ``value`` unchanged, or ValueError (never echoing it)."""
    if has_control_character(value, allow_line_breaks=True):
        raise ValueError(CONTROL_CHARACTERS_MESSAGE)
    return value
