"""scorecard registry (champion, challenger), structure-priced deals, predicted PD on loans,
monitoring reports

Revision ID: 0104_scorecard_registry
Revises: 0102_applicant_profile, 0300_dealer_portal
Create Date: 2026-12-03 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0104_scorecard_registry"
down_revision: str | Sequence[str] | None = ("0102_applicant_profile", "0300_dealer_portal")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scorecards",
        sa.Column("version", sa.String(length=64), primary_key=True),
        sa.Column("card", postgresql.JSONB(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("published_by", sa.String(length=80), nullable=False),
        sa.Column(
            "published_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("role_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('candidate', 'champion', 'challenger')", name=op.f("ck_scorecards_role")
        ),
    )
    op.create_index(
        "uq_scorecards_one_champion",
        "scorecards",
        ["role"],
        unique=True,
        postgresql_where=sa.text("role = 'champion'"),
    )
    op.create_index(
        "uq_scorecards_one_challenger",
        "scorecards",
        ["role"],
        unique=True,
        postgresql_where=sa.text("role = 'challenger'"),
    )
    # A published card is immutable: only its role (and when it changed) may ever be updated.
    op.execute(
        """
        CREATE FUNCTION scorecards_immutable() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'published scorecards are never deleted';
            END IF;
            IF NEW.version <> OLD.version OR NEW.card <> OLD.card OR NEW.sha256 <> OLD.sha256
               OR NEW.published_by <> OLD.published_by OR NEW.published_at <> OLD.published_at
            THEN
                RAISE EXCEPTION 'a published scorecard is immutable (only its role changes)';
            END IF;
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER scorecards_immutable BEFORE UPDATE OR DELETE ON scorecards "
        "FOR EACH ROW EXECUTE FUNCTION scorecards_immutable()"
    )
    op.create_table(
        "risk_monitor_reports",
        sa.Column("as_of", sa.Date(), primary_key=True),
        sa.Column("scorecard_version", sa.String(length=64), nullable=False),
        sa.Column("figures", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.add_column("applications", sa.Column("structure_assumed", postgresql.JSONB()))
    op.add_column("applications", sa.Column("challenger_version", sa.String(length=64)))
    op.add_column("applications", sa.Column("challenger_score", sa.Integer()))
    op.add_column("applications", sa.Column("challenger_pd", sa.Numeric(10, 8)))
    op.add_column("applications", sa.Column("challenger_grade", sa.String(length=2)))
    # Monitoring reads this month's decided applications by their decision time.
    op.create_index("ix_applications_decided_at", "applications", ["decided_at"])
    op.add_column("dealer_deals", sa.Column("preapproval_grade", sa.String(length=2)))
    op.add_column("dealer_deals", sa.Column("pd", sa.Numeric(10, 8)))
    op.add_column("dealer_deals", sa.Column("score", sa.Integer()))
    op.add_column("loans", sa.Column("pd", sa.Numeric(10, 8)))


def downgrade() -> None:
    op.drop_column("loans", "pd")
    for column in ("score", "pd", "preapproval_grade"):
        op.drop_column("dealer_deals", column)
    op.drop_index("ix_applications_decided_at", table_name="applications")
    for column in (
        "challenger_grade",
        "challenger_pd",
        "challenger_score",
        "challenger_version",
        "structure_assumed",
    ):
        op.drop_column("applications", column)
    op.drop_table("risk_monitor_reports")
    op.drop_table("scorecards")
    op.execute("DROP FUNCTION scorecards_immutable()")
