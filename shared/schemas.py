"""Request and response building blocks every domain shares."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from shared.identifiers import normalize_cn_mobile
from shared.text import TEXT_PATTERN, refuse_control_characters

_EMAIL_PART = r"[^@\s\x00-\x1f\x7f-\x9f]+"
EMAIL_PATTERN = re.compile(rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$")
# What the validators accept, as JSON-schema patterns (a subset where a check digit or a
# calendar decides the rest), so the document tells callers and generated tests the truth.
CN_MOBILE_PATTERN = r"^1(3[0-9]|5[0-35-9]|7[0-35-8]|8[0-9]|9[0-35-9])[0-9]{8}$"
NATIONAL_ID_PATTERN = (
    r"^[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}[0-9X]$"
)
USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"


def _strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in _strings_in(key) + _strings_in(item)]
    if isinstance(value, list | tuple | set | frozenset):
        return [s for item in value for s in _strings_in(item)]
    return []


def _document_text_rule(schema: dict[str, Any]) -> None:
    """Give every free-text string of a request schema the no-control-characters pattern."""
    for prop in schema.get("properties", {}).values():
        for variant in [prop, *prop.get("anyOf", []), prop.get("items", {})]:
            if (
                variant.get("type") == "string"
                and not {"pattern", "format", "enum", "const"} & variant.keys()
            ):
                variant["pattern"] = TEXT_PATTERN


class RequestModel(BaseModel):
    """Every request body: unknown fields are refused, so server-owned fields cannot be set,
    and no text anywhere in it may hold a control character (422; NUL cannot be stored)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=lambda schema, _cls: _document_text_rule(schema),
    )

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        for text in _strings_in(value):
            refuse_control_characters(text)
        return value


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _email(value: str) -> str:
    if not EMAIL_PATTERN.match(value):
        raise ValueError("not a valid email address")
    return value.lower()


def _cn_mobile(value: str) -> str:
    return normalize_cn_mobile(value)


Email = Annotated[
    str,
    StringConstraints(max_length=254),
    AfterValidator(_email),
    Field(json_schema_extra={"pattern": EMAIL_PATTERN.pattern}),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
FullName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
MobilePhone = Annotated[
    str,
    StringConstraints(max_length=20),
    AfterValidator(_cn_mobile),
    Field(json_schema_extra={"pattern": CN_MOBILE_PATTERN}),
]


def mask_name(full_name: str) -> str:
    """Show only the first character of a name: 张三 → 张*, 欧阳娜娜 → 欧***."""
    name = full_name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else "*"
