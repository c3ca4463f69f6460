"""Signed outbound webhooks: endpoints organisations register, events written in the same
transaction as the change they describe (``outbox.emit``), and their delivery by the worker."""
