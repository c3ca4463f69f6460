"""Request and response building blocks every domain shares."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from shared.identifiers import normalize_cn_mobile

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RequestModel(BaseModel):
    """Every request body: unknown fields are refused, so server-owned fields cannot be set."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _email(value: str) -> str:
    if not EMAIL_PATTERN.match(value):
        raise ValueError("not a valid email address")
    return value.lower()


def _cn_mobile(value: str) -> str:
    return normalize_cn_mobile(value)


Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
FullName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
MobilePhone = Annotated[str, StringConstraints(max_length=20), AfterValidator(_cn_mobile)]


def mask_name(full_name: str) -> str:
    """Show only the first character of a name: 张三 → 张*, 欧阳娜娜 → 欧***."""
    name = full_name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else "*"
