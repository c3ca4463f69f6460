"""Recording audit entries in the caller's transaction, and the admin's search of the log."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from shared.audit import repository
from shared.audit.models import AuditEntry
from shared.db import utcnow
from shared.identity import repository as identity_repository
from shared.identity.principal import Principal
from shared.observability import current_request_id
from shared.writes import Write

SYSTEM_ACTOR = "system"


def entry(
    *,
    actor: Principal | str,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID | str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry's columns: the actor as the log names it, and the request it belongs to.

    ``before``/``after`` hold business facts (statuses, amounts, ids), never personal data."""
    return {
        "occurred_at": utcnow(),
        "actor": actor if isinstance(actor, str) else actor.actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "before": before,
        "after": after,
        "request_id": current_request_id(),
    }


def record(
    session: AsyncSession,
    *,
    actor: Principal | str,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID | str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry in the caller's transaction (it commits or rolls back with it).

    ``before``/``after`` hold business facts (statuses, amounts, ids), never personal data.
    The entries of a transaction are written together as it commits, in one INSERT however
    many a request records (a flush on the way would otherwise write each on its own); inside
    a savepoint they are written with it, so they roll back with it too.
    """
    values = entry(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        before=before,
        after=after,
    )
    if session.in_nested_transaction():
        session.add(AuditEntry(**values))
        return
    if not session.in_transaction():
        session.sync_session.begin()  # no I/O: what the next statement would begin anyway
    # Kept as plain values, not entities: building an ORM entity per entry (and flushing it)
    # cost a confirm a tenth of its CPU.
    session.sync_session.info.setdefault(_PENDING, []).append(values)


def insert(first: dict[str, Any], *more: dict[str, Any]) -> Write:
    """These entries (``entry``) as one INSERT for the caller to send within a statement of its
    own (with the write they record: ``ratelimit.Turn.succeeded(along=…)``), where ``record``
    would cost an INSERT at the commit. The same facts as ``record``, in the caller's
    transaction."""
    return repository.insert([first, *more])


def along(session: AsyncSession, first: dict[str, Any], *more: dict[str, Any]) -> Write:
    """The entries ``record``-ed in this transaction so far and these (``entry``), as one INSERT
    for the caller to send within its next statement, where the commit would send them on their
    own. They are taken from the session: that statement writes them, or fails and takes the
    transaction with it."""
    return repository.insert([*_take_pending(session), first, *more])


def pending(session: AsyncSession) -> Write | None:
    """The entries ``record``-ed in this transaction so far, taken as ``along`` takes them, for
    the transaction's last statement to carry; None when there are none."""
    entries = _take_pending(session)
    return repository.insert(entries) if entries else None


def _take_pending(session: AsyncSession) -> list[dict[str, Any]]:
    """The transaction's pending entries, taken off the session — none inside a savepoint, whose
    statements could roll back what the outer transaction recorded."""
    if session.in_nested_transaction():
        return []
    return session.sync_session.info.pop(_PENDING, None) or []


_PENDING = "audit_entries_pending"


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """The transaction's entries, written at once as it commits (before the commit's flush)."""
    if entries := session.info.pop(_PENDING, None):
        repository.insert_entries(session, entries)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ends without committing (rolled back, closed) leaves no entry."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


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
    search); an actor given as an email is the login holding it (none → an empty page)."""
    if actor is not None and "@" in actor:
        user = await identity_repository.user_by_email(session, actor)
        actor = f"user:{user.id}" if user is not None else "user:none"
    return await repository.page(
        session,
        subject_id=subject_id,
        subject_type=subject_type,
        actor=actor,
        limit=limit,
        offset=offset,
    )
