"""The audit log is append-only, enforced by the database even for a superuser."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit


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
    await session.flush()
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
