from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from shared.schemas import RequestModel, ResponseModel


class MessageCreate(RequestModel):
    body: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class MessagePublic(ResponseModel):
    id: uuid.UUID
    sender: str
    body: str
    sent_at: datetime


class AdvisedBuyer(ResponseModel):
    buyer_id: uuid.UUID
    full_name: str
    assigned_at: datetime
    preapproval_id: uuid.UUID | None
    status: str | None
    expires_at: datetime | None
    credit_limit: int | None
    grade: str | None
    unread: int = Field(description="The buyer's messages since the advisor last read them.")
    last_message_at: datetime | None


class DiversionAlert(ResponseModel):
    """A dealer looked up this buyer's approval over a day ago and has not confirmed a deal."""

    lookup_id: uuid.UUID
    preapproval_id: uuid.UUID
    buyer_id: uuid.UUID
    buyer_name: str
    dealer_id: uuid.UUID
    dealer_name: str
    looked_up_at: datetime


class AdvisorPublic(ResponseModel):
    id: uuid.UUID
    email: str
    full_name: str
    created_at: datetime
    buyers: int = Field(description="Buyers assigned to this advisor.")
