"""The append-only audit log: who did what to which record, when, with before and after.

The database refuses UPDATE, DELETE and TRUNCATE on this table (a trigger that fires even
for superusers and in replica mode; see the foundation migration), so history cannot be
rewritten through the application or a stray psql session.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, String, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from shared.db import created_now
from shared.identity.principal import Principal
from shared.observability import current_request_id
from shared.pagination import paginate

SYSTEM_ACTOR = "system"


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    occurred_at: datetime = created_now()
    actor: str = Field(max_length=80)
    action: str = Field(max_length=80, index=True)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    request_id: str | None = Field(default=None, max_length=64)


def record(
    session: AsyncSession,
    *,
    actor: Principal | str,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID | str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry in the caller's transaction (it commits or rolls back with it).

    ``before``/``after`` hold business facts (statuses, amounts, ids), never personal data.
    """
    entry = AuditEntry(
        actor=actor if isinstance(actor, str) else actor.actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        before=before,
        after=after,
        request_id=current_request_id(),
    )
    session.add(entry)
    return entry


async def search(
    session: AsyncSession,
    *,
    subject_id: str | None,
    subject_type: str | None,
    actor: str | None,
    limit: int,
    offset: int,
) -> tuple[list[AuditEntry], int]:
    """A page of the log, newest first, narrowed by subject and actor when given (the admin's
    search)."""
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
