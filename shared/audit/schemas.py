"""The audit log as the admin reads it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.schemas import ResponseModel


class AuditEntryPublic(ResponseModel):
    id: int
    occurred_at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
