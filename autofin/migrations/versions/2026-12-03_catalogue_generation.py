"""catalogue generation: a value that changes with every change to what applicants match

An application matches the buyer against every active product of every active lender. With
10,000 product versions, reading that catalogue and preparing it took a third of an application
at scale. ``catalogue_generation`` holds one random value, replaced by triggers in the
transaction of every change to ``products`` (a new product, a new current version, a retirement)
and of every change to a lender's status; a process keeps the catalogue it prepared by that
value and reads only the value while it stands.

The triggers run once per statement, so the changing transaction itself sees the new value
(it may match against the catalogue it just changed), and a bulk copy changes it once; two
lenders' edits take turns on the row until each commits, which an edit's short transaction
makes cheap. They are ``ENABLE ALWAYS``, so they fire under ``session_replication_role =
replica`` too (the bench's bulk copy).

Revision ID: 0131_catalogue_generation
Revises: 0130_advisor_console (the marketplace line: products, and organizations before it)
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0131_catalogue_generation"
down_revision: str | Sequence[str] | None = "0130_advisor_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = (
    # (trigger, table, events)
    ("products_catalogue_changed", "products", "INSERT OR UPDATE OR DELETE OR TRUNCATE"),
    ("organizations_catalogue_changed", "organizations", "UPDATE OF status OR DELETE OR TRUNCATE"),
)


def upgrade() -> None:
    op.create_table(
        "catalogue_generation",
        sa.Column("id", sa.Integer(), primary_key=True, server_default=sa.text("1")),
        sa.Column(
            "generation",
            sa.Uuid(),
            nullable=False,
            server_default=sa.text("gen_random_uuid()"),
        ),
        sa.CheckConstraint("id = 1", name="one_row"),
    )
    op.execute("INSERT INTO catalogue_generation DEFAULT VALUES")
    op.execute(
        """
        CREATE FUNCTION catalogue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE catalogue_generation SET generation = gen_random_uuid();
            RETURN NULL;
        END $$
        """
    )
    for name, table, events in _TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name} AFTER {events} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed()"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}")


def downgrade() -> None:
    for name, table, _ in _TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION catalogue_changed()")
    op.drop_table("catalogue_generation")
