"""under load: rate-limit counters, and an index for finding a payment's request

Rate limits keep one counter row per key instead of one row per attempt, so counting is one
atomic upsert and attempts no longer take turns under advisory locks. Idempotency keys get a
GIN index on their recovery data, which the reconciliation searches by payment.

Revision ID: 0003_under_load
Revises: 0002_payments (and needs 0100_marketplace, which made the old table)
Create Date: 2026-12-03 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_under_load"
down_revision: str | Sequence[str] | None = "0002_payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0100_marketplace"


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )
    op.drop_index("ix_rate_limit_events_key_occurred_at", table_name="rate_limit_events")
    op.drop_table("rate_limit_events")
    op.create_index(
        "ix_idempotency_keys_recovery_data",
        "idempotency_keys",
        ["recovery_data"],
        postgresql_using="gin",
        postgresql_ops={"recovery_data": "jsonb_path_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_recovery_data", table_name="idempotency_keys")
    op.create_table(
        "rate_limit_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_events")),
    )
    op.create_index(
        "ix_rate_limit_events_key_occurred_at",
        "rate_limit_events",
        ["key", "occurred_at"],
        unique=False,
    )
    op.drop_table("rate_limit_counters")
