"""A loan's collateral as the dealer records it and as lenders and dealers read it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.schemas import RequestModel, ResponseModel

CollateralStatusName = Literal[
    "awaiting", "registered", "not_required", "release_issued", "released"
]


class CollateralRegistration(RequestModel):
    """The mortgage registration (抵押登记) as the vehicle administration office made it."""

    registration_number: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]
    authority: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        Field(examples=["上海市公安局交通警察总队车辆管理所"]),
    ]
    registered_on: date
    document_id: uuid.UUID = Field(
        description="the registration certificate, uploaded to the deal's documents"
    )


class CollateralRelease(RequestModel):
    """The release (解押) done at the vehicle administration office."""

    released_on: date
    document_id: uuid.UUID | None = Field(
        default=None, description="the updated certificate, uploaded to the deal's documents"
    )


class ReleaseInstructions(ResponseModel):
    """What the platform told the dealer and buyer to do at payoff, as issued."""

    zh: str
    en: str


class CollateralPublic(ResponseModel):
    loan_id: uuid.UUID
    deal_id: uuid.UUID | None = None
    lender_id: uuid.UUID
    dealer_id: uuid.UUID | None
    status: CollateralStatusName
    funded_on: date
    due_on: date
    overdue: bool = Field(description="awaiting past its due date (flagged by the daily jobs)")
    overdue_at: datetime | None
    registration_number: str | None
    authority: str | None
    registered_on: date | None
    registered_late: bool = Field(description="registered after its due date")
    document_id: uuid.UUID | None
    release_instructions: ReleaseInstructions | None
    release_issued_at: datetime | None
    released_on: date | None
    release_document_id: uuid.UUID | None


class DealerCollateral(CollateralPublic):
    """In the dealer's list: which car (the dealer knows its cars by VIN)."""

    vin: str
