"""Request and response bodies of the webhook settings (endpoints, deliveries)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AnyHttpUrl, Field, UrlConstraints

from shared.schemas import RequestModel, ResponseModel
from shared.webhooks.models import EventType

WebhookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=2048)]
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=len(EventType))]


class EndpointCreate(RequestModel):
    url: WebhookUrl
    events: EventTypes


class EndpointUpdate(RequestModel):
    """Enable or disable an endpoint, or change the events it receives."""

    enabled: bool | None = None
    events: EventTypes | None = None


class EndpointOut(ResponseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime


class EndpointCreated(EndpointOut):
    """The new endpoint and its signing secret, shown this once."""

    secret: str


class AttemptOut(ResponseModel):
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None


class DeliveryOut(ResponseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    event_created: datetime
    data: dict[str, Any]
    status: str
    attempt_count: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[AttemptOut]
