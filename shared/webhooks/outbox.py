"""The outbox: ``emit`` writes an event, and what is owed to each subscribed endpoint, in the
caller's transaction.

Call it beside the change the event describes (``await outbox.emit(session, [lender_id],
"loan.funded", {...})``): it commits or rolls back with that change, so an event is never
delivered for a change that did not happen, nor lost for one that did. The worker delivers it
after the commit; a transactional ``NOTIFY`` wakes the worker at once (and its periodic sweep
finds the rows anyway, whatever happened to the notification).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.observability import event as log_event
from shared.webhooks import repository
from shared.webhooks.models import EventType

NOTIFY_CHANNEL = "autofin_webhooks"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot put {type(value).__name__} in a webhook event")


async def emit(
    session: AsyncSession,
    organization_ids: Iterable[uuid.UUID | None],
    type: EventType | str,
    data: Mapping[str, Any],
) -> uuid.UUID:
    """Record event ``type`` with ``data`` (ids and states, never personal data) for these
    organisations' endpoints, in the caller's transaction; the event's id. ``None`` ids (a loan
    with no dealer) are skipped."""
    event_type = EventType(type)
    recipients = sorted({org for org in organization_ids if org is not None})
    event_id = uuid.uuid4()
    await repository.record_event(
        session,
        event_id=event_id,
        event_type=event_type.value,
        data=json.dumps(dict(data), default=_json_default, ensure_ascii=False),
        organization_ids=recipients,
        channel=NOTIFY_CHANNEL,
    )
    log_event("webhook.event_recorded", webhook_event_id=str(event_id), type=event_type.value)
    return event_id


async def wake_worker(session: AsyncSession) -> None:
    """Have the worker look for due deliveries as soon as the caller's transaction commits."""
    await repository.notify_worker(session, NOTIFY_CHANNEL)
