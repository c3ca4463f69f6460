"""The audit log's SQL: the INSERT an entry is, and the admin's page of entries."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Insert, bindparam, select
from sqlalchemy import insert as sa_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from shared.audit.models import AuditEntry
from shared.db import Write, table_of
from shared.pagination import paginate

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


@cache
def _insert_rows(count: int) -> Insert:
    """``count`` entries as one INSERT sent within another statement (``Write``), built once
    per count: entry ``i``'s values are the parameters ``audit{i}_{column}``."""
    table = table_of(AuditEntry)
    return sa_insert(table).values(
        [
            {
                column: bindparam(f"audit{i}_{column}", type_=table.c[column].type)
                for column in _COLUMNS
            }
            for i in range(count)
        ]
    )


def insert(entries: Sequence[dict[str, Any]]) -> Write:
    """These entries (at least one) as one INSERT for the caller to send within a statement."""
    if not entries:
        raise ValueError("an INSERT of no audit entries")
    return Write(
        _insert_rows(len(entries)),
        {
            f"audit{i}_{column}": entry[column]
            for i, entry in enumerate(entries)
            for column in _COLUMNS
        },
    )


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
