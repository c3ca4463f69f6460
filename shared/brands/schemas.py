"""Brands as the API shows them and as admins write them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from shared.schemas import RequestModel, ResponseModel

BrandId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
BrandNameText = Annotated[str, StringConstraints(min_length=1, max_length=50)]
# What a caller types where a brand is asked for: any name or alias of a catalogue brand.
BrandInput = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    Field(description="Any name or alias of a catalogue brand (GET /v1/brands); stored as its id."),
]
NameList = Annotated[list[BrandNameText], Field(max_length=30)]


class BrandPublic(ResponseModel):
    id: str
    name_zh: str
    name_en: str
    aliases: list[str]
    manufacturers: list[str]


class BrandCreate(RequestModel):
    id: BrandId
    name_zh: BrandNameText
    name_en: BrandNameText
    aliases: NameList = []
    manufacturers: NameList = Field(
        default=[], description="Makers as a VIN's WMI names them, whose cars carry this brand."
    )


class BrandUpdate(RequestModel):
    """The fields to change; those left out keep their value."""

    name_zh: BrandNameText | None = None
    name_en: BrandNameText | None = None
    aliases: NameList | None = None
    manufacturers: NameList | None = None
