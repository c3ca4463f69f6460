"""The append-only audit log: who did what to which record, when, with before and after.

The database refuses UPDATE, DELETE and TRUNCATE on this table (a trigger that fires even
for superusers and in replica mode; see the foundation migration), so history cannot be
rewritten through the application or a stray psql session.
"""

from __future__ import annotations

from shared.audit.models import AuditEntry
from shared.audit.service import (
    SYSTEM_ACTOR,
    along,
    entry,
    insert,
    pending,
    record,
    search,
)

__all__ = ["SYSTEM_ACTOR", "AuditEntry", "along", "entry", "insert", "pending", "record", "search"]
