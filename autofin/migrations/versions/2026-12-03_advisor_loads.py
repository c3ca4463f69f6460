"""advisor loads: each advisor's number of buyers, kept beside the assignments

Choosing the least-loaded advisor counted every assignment of every advisor (a GROUP BY over a
table with a row per approved buyer) on each approval; the count now lives in one row per
advisor, written with the assignment, backfilled here from the assignments already made.

Revision ID: 0111_advisor_loads
Revises: 0004_scale_indexes (the line that holds users and advisor_assignments)
Create Date: 2026-12-03 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0111_advisor_loads"
down_revision: str | Sequence[str] | None = "0004_scale_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advisor_loads",
        sa.Column("advisor_id", sa.Uuid(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("buyers", sa.Integer(), nullable=False),
        sa.CheckConstraint("buyers >= 0", name="ck_advisor_loads_buyers_not_negative"),
    )
    op.execute(
        "INSERT INTO advisor_loads (advisor_id, buyers) "
        "SELECT advisor_id, count(*) FROM advisor_assignments GROUP BY advisor_id"
    )


def downgrade() -> None:
    op.drop_table("advisor_loads")
