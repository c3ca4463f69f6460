"""The audit log's SQL: the INSERT an entry is, and the admin's page of entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert as sa_insert
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from shared.audit.models import AuditEntry
from shared.db import table_of
from shared.pagination import paginate
from shared.writes import Write, rows_insert

_COLUMNS = (
    "occurred_at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "before",
    "after",
    "request_id",
)


def insert(entries: Sequence[dict[str, Any]]) -> Write:
    """These entries (at least one) as one INSERT for the caller to send within a statement:
    entry ``i``'s values are the parameters ``audit{i}_{column}``."""
    return rows_insert(table_of(AuditEntry), _COLUMNS, entries, prefix="audit")


# A transaction's entries, sent as one INSERT of all their rows (built once; each row's values
# are the parameters).
_INSERT_ENTRIES = sa_insert(table_of(AuditEntry))


def insert_entries(session: Session, entries: list[dict[str, Any]]) -> None:
    """Write these entries now, on the synchronous session of a commit under way."""
    session.execute(_INSERT_ENTRIES, entries)


async def page(
    session: AsyncSession,
    *,
    subject_id: str | None,
    subject_type: str | None,
    actor: str | None,
    limit: int,
    offset: int,
) -> tuple[list[AuditEntry], int]:
    """A page of the log, newest first, narrowed by the exact values given."""
    statement = select(AuditEntry)
    if subject_id is not None:
        statement = statement.where(col(AuditEntry.subject_id) == subject_id)
    if subject_type is not None:
        statement = statement.where(col(AuditEntry.subject_type) == subject_type)
    if actor is not None:
        statement = statement.where(col(AuditEntry.actor) == actor)
    return await paginate(
        session, statement.order_by(col(AuditEntry.id).desc()), limit=limit, offset=offset
    )
