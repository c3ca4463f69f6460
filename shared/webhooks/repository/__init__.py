"""All SQL of webhooks, one module per responsibility: ``endpoints`` (what an organisation
manages, each query taking its id as a required argument), ``deliveries`` (the worker's, by
delivery id, acting for the platform) and ``events`` (the outbox's). The names are re-exported
here so callers say ``repository.<intent>``."""

from __future__ import annotations

from shared.webhooks.repository.deliveries import (
    LeasedDelivery,
    disable_failing_endpoint,
    due_deliveries,
    endpoint_failed,
    endpoint_succeeded,
    failed_attempts,
    give_up_pending,
    lease_delivery,
    mark_delivered,
    purge_events,
    record_attempt,
    schedule_retry,
)
from shared.webhooks.repository.endpoints import (
    DeliveryView,
    add_endpoint,
    delete_endpoint,
    endpoint_deliveries,
    organization_delivery,
    organization_endpoint,
    organization_endpoints,
    requeue_delivery,
    set_endpoint,
)
from shared.webhooks.repository.events import (
    notify_worker,
    record_event,
)

__all__ = [
    "DeliveryView",
    "LeasedDelivery",
    "add_endpoint",
    "delete_endpoint",
    "disable_failing_endpoint",
    "due_deliveries",
    "endpoint_deliveries",
    "endpoint_failed",
    "endpoint_succeeded",
    "failed_attempts",
    "give_up_pending",
    "lease_delivery",
    "mark_delivered",
    "notify_worker",
    "organization_delivery",
    "organization_endpoint",
    "organization_endpoints",
    "purge_events",
    "record_attempt",
    "record_event",
    "requeue_delivery",
    "schedule_retry",
    "set_endpoint",
]
