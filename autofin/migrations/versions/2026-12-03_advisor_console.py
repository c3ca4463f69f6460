"""consoles: when an advisor last read each conversation, alerts marked handled, audit by actor

``advisor_assignments.advisor_read_at`` is when the advisor last opened the buyer's
conversation: the buyer's messages after it are unread. ``advisor_alerts_handled`` holds one row
per diversion alert (a dealer's look-up) the advisor has dealt with; the primary key makes
marking twice, or by two tabs at once, one row. The admin console lists the audit log by actor.

Revision ID: 0130_advisor_console
Revises: 0100_marketplace (advisor assignments and pre-approval look-ups)
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0130_advisor_console"
down_revision: str | Sequence[str] | None = "0100_marketplace"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "advisor_assignments",
        sa.Column("advisor_read_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "advisor_alerts_handled",
        sa.Column(
            "lookup_id",
            sa.Uuid(),
            sa.ForeignKey("preapproval_lookups.id"),
            primary_key=True,
        ),
        sa.Column("advisor_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column(
            "handled_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )
    # The admin console searches the audit log by actor, newest first.
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_actor_id", table_name="audit_log")
    op.drop_table("advisor_alerts_handled")
    op.drop_column("advisor_assignments", "advisor_read_at")
