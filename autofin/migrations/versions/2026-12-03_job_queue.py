"""job queue: procrastinate's schema (its jobs, events, periodic defers and functions)

Applied from procrastinate's own ``schema.sql`` for the pinned version (``procrastinate``
3.10.x in pyproject). Upgrading procrastinate to a release with schema migrations means a new
revision here applying its files from ``procrastinate/sql/migrations`` in order.

Revision ID: 0141_job_queue
Revises: 0001_foundation
Create Date: 2026-12-03 09:30:00
"""

from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.util import await_only

revision: str = "0141_job_queue"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _execute_script(sql: str) -> None:
    """Run a multi-statement script (with ``$$`` function bodies) as one simple query on the
    migration's own asyncpg connection, inside its transaction."""
    driver_connection = op.get_bind().connection.driver_connection
    assert driver_connection is not None
    await_only(driver_connection.execute(sql))


def upgrade() -> None:
    _execute_script(SchemaManager.get_schema())


def downgrade() -> None:
    _execute_script(
        """
        DROP TABLE procrastinate_periodic_defers, procrastinate_events, procrastinate_jobs,
            procrastinate_workers CASCADE;
        DO $$
        DECLARE routine regprocedure;
        BEGIN
            FOR routine IN SELECT oid::regprocedure FROM pg_proc
                           WHERE proname LIKE 'procrastinate\\_%' LOOP
                EXECUTE 'DROP FUNCTION ' || routine || ' CASCADE';
            END LOOP;
        END $$;
        DROP TYPE procrastinate_job_to_defer_v1, procrastinate_job_status,
            procrastinate_job_event_type CASCADE;
        """
    )
