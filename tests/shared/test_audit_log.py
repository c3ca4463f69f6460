"""The audit log is append-only, enforced by the database even for a superuser."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.writes import send


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ],
)
@pytest.mark.parametrize("replication_role", ["origin", "replica"])
async def test_the_database_refuses_to_rewrite_the_audit_log(
    session: AsyncSession, statement: str, replication_role: str
) -> None:
    audit.record(session, actor="system", action="test.done", subject_type="test", subject_id="1")
    await session.commit()  # entries are written as their transaction commits
    superuser = (
        await session.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    ).scalar()
    assert superuser, "this test is only meaningful as a superuser"
    with pytest.raises(DBAPIError, match="append-only"):
        async with session.begin_nested():
            await session.execute(text(f"SET LOCAL session_replication_role = {replication_role}"))
            await session.execute(text(statement))
    count = (
        await session.execute(text("SELECT count(*) FROM audit_log WHERE action = 'test.done'"))
    ).scalar()
    assert count == 1


async def test_a_transactions_entries_are_written_at_its_commit_in_one_insert(
    session: AsyncSession,
) -> None:
    """However many entries a request records, and whatever it flushes on the way, its commit
    writes them in one statement; a rolled-back transaction writes none, and an entry recorded
    in a savepoint rolls back with it."""
    inserts: list[str] = []

    def heard(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG"):
            inserts.append(statement)

    engine = session.bind.sync_engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", heard)
    try:
        for n in range(3):
            audit.record(session, actor="system", action="test.one", subject_type="t", subject_id=n)
            await session.flush()
        assert inserts == []
        await session.commit()
        assert len(inserts) == 1

        audit.record(session, actor="system", action="test.gone", subject_type="t", subject_id=9)
        await session.rollback()
        async with session.begin_nested() as savepoint:
            audit.record(
                session, actor="system", action="test.gone", subject_type="t", subject_id=8
            )
            await savepoint.rollback()
        await session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", heard)
    written = await session.execute(
        text("SELECT action, count(*) FROM audit_log WHERE subject_type = 't' GROUP BY action")
    )
    assert dict(written.all()) == {"test.one": 3}


async def test_entries_taken_along_are_written_by_that_statement_and_never_twice(
    session: AsyncSession,
) -> None:
    """``along`` takes the transaction's pending entries into the caller's statement, so the
    commit writes nothing more; in a savepoint it leaves the outer transaction's entries to
    its commit (a rolled-back savepoint must not take them along), and ``pending`` is None
    when nothing is pending."""
    audit.record(session, actor="system", action="test.first", subject_type="u", subject_id=1)
    write = audit.along(
        session, audit.entry(actor="system", action="test.second", subject_type="u", subject_id=2)
    )
    await send(session, write)
    assert audit.pending(session) is None
    audit.record(session, actor="system", action="test.outer", subject_type="u", subject_id=3)
    async with session.begin_nested() as savepoint:
        inner = audit.along(
            session,
            audit.entry(actor="system", action="test.inner", subject_type="u", subject_id=4),
        )
        await send(session, inner)
        await savepoint.rollback()
    await session.commit()
    written = await session.execute(
        text("SELECT action, count(*) FROM audit_log WHERE subject_type = 'u' GROUP BY action")
    )
    assert dict(written.all()) == {"test.first": 1, "test.second": 1, "test.outer": 1}
