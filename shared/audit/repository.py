"""The audit log's SQL: the INSERT an entry is, and the admin's page of entries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy import insert as sa_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from shared.audit.models import AuditEntry
from shared.db import Write, table_of
from shared.pagination import paginate

# One entry sent within another statement (``Write``), built once; ``occurred_at`` is the
# database's ``now()``.
_INSERT_ONE = sa_insert(table_of(AuditEntry)).values(
    {
        column: bindparam(f"audit_{column}")
        for column in (
            "actor",
            "action",
            "subject_type",
            "subject_id",
            "before",
            "after",
            "request_id",
        )
    }
)


def insert(values: dict[str, Any]) -> Write:
    return Write(_INSERT_ONE, {f"audit_{column}": value for column, value in values.items()})


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
