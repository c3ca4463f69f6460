from __future__ import annotations

from shared.errors import Conflict, NotFound, Unprocessable


class WebhookEndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"
    message = "No such webhook endpoint."


class WebhookDeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"
    message = "No such webhook delivery."


class WebhookEndpointDisabled(Conflict):
    code = "webhook_endpoint_disabled"
    message = "This webhook endpoint is disabled; enable it before redelivering."


class WebhookUrlRefused(Unprocessable):
    code = "webhook_url_refused"
    message = "Webhook URLs must use https (plain http only to this machine, in development)."
