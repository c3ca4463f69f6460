"""marketplace

Revision ID: 0100_marketplace
Revises: 0001_foundation
Create Date: 2026-11-30 11:36:03.287733
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0100_marketplace"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("marketplace",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bureau_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("facts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "pulled_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bureau_reports")),
    )
    op.create_index(
        op.f("ix_bureau_reports_person_hash"), "bureau_reports", ["person_hash"], unique=False
    )
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
    op.create_table(
        "advisor_assignments",
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("advisor_id", sa.Uuid(), nullable=False),
        sa.Column(
            "assigned_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["advisor_id"], ["users.id"], name=op.f("fk_advisor_assignments_advisor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_advisor_assignments_buyer_id_users")
        ),
        sa.PrimaryKeyConstraint("buyer_id", name=op.f("pk_advisor_assignments")),
    )
    op.create_index(
        op.f("ix_advisor_assignments_advisor_id"),
        "advisor_assignments",
        ["advisor_id"],
        unique=False,
    )
    op.create_table(
        "advisor_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("advisor_id", sa.Uuid(), nullable=False),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["advisor_id"], ["users.id"], name=op.f("fk_advisor_messages_advisor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_advisor_messages_buyer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_messages")),
    )
    op.create_index(
        op.f("ix_advisor_messages_buyer_id"), "advisor_messages", ["buyer_id"], unique=False
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=True),
        sa.Column("person_hash", sa.String(length=64), nullable=False),
        sa.Column("national_id_encrypted", sa.String(length=200), nullable=False),
        sa.Column("age", sa.Integer(), nullable=False),
        sa.Column("monthly_income", sa.BigInteger(), nullable=False),
        sa.Column("employment_months", sa.Integer(), nullable=False),
        sa.Column("housing", sa.String(length=16), nullable=False),
        sa.Column("existing_monthly_debt", sa.BigInteger(), nullable=False),
        sa.Column("consent", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("grade", sa.String(length=2), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("pd", sa.Numeric(precision=10, scale=8), nullable=True),
        sa.Column("credit_limit", sa.BigInteger(), nullable=False),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("scorecard_version", sa.String(length=64), nullable=True),
        sa.Column("inputs_hash", sa.String(length=64), nullable=True),
        sa.Column("bureau_report_id", sa.Uuid(), nullable=True),
        sa.Column("bureau_attempts", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bureau_report_id"],
            ["bureau_reports.id"],
            name=op.f("fk_applications_bureau_report_id_bureau_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_applications_buyer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["organizations.id"],
            name=op.f("fk_applications_dealer_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    op.create_index(op.f("ix_applications_buyer_id"), "applications", ["buyer_id"], unique=False)
    op.create_index(op.f("ix_applications_dealer_id"), "applications", ["dealer_id"], unique=False)
    op.create_index(
        op.f("ix_applications_person_hash"), "applications", ["person_hash"], unique=False
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lender_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"], ["organizations.id"], name=op.f("fk_products_lender_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    op.create_index(op.f("ix_products_lender_id"), "products", ["lender_id"], unique=False)
    op.create_table(
        "preapprovals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("person_hash", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.String(length=2), nullable=False),
        sa.Column("credit_limit", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "status_changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_preapprovals_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_preapprovals_buyer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preapprovals")),
        sa.UniqueConstraint("application_id", name=op.f("uq_preapprovals_application_id")),
        sa.UniqueConstraint("code", name=op.f("uq_preapprovals_code")),
    )
    op.create_index(op.f("ix_preapprovals_buyer_id"), "preapprovals", ["buyer_id"], unique=False)
    op.create_index(
        op.f("ix_preapprovals_expires_at"), "preapprovals", ["expires_at"], unique=False
    )
    op.create_index(
        "uq_preapprovals_person_hash_active",
        "preapprovals",
        ["person_hash"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "product_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("terms_months", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("min_amount", sa.BigInteger(), nullable=False),
        sa.Column("max_amount", sa.BigInteger(), nullable=False),
        sa.Column("max_ltv", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("min_down_payment_ratio", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("upfront_fee", sa.BigInteger(), nullable=False),
        sa.Column("rate_card", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("vehicle_types", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("subsidy", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("platform_guarantee", sa.Boolean(), nullable=False),
        sa.Column("auto_fund", sa.Boolean(), nullable=False),
        sa.Column("commission_rate", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_versions_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_versions")),
        sa.UniqueConstraint(
            "product_id", "version", name=op.f("uq_product_versions_product_id_version")
        ),
    )
    op.create_table(
        "preapproval_lookups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("preapproval_id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column(
            "looked_up_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["organizations.id"],
            name=op.f("fk_preapproval_lookups_dealer_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["preapproval_id"],
            ["preapprovals.id"],
            name=op.f("fk_preapproval_lookups_preapproval_id_preapprovals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preapproval_lookups")),
    )
    op.create_index(
        op.f("ix_preapproval_lookups_preapproval_id"),
        "preapproval_lookups",
        ["preapproval_id"],
        unique=False,
    )
    op.create_table(
        "preapproval_offers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("preapproval_id", sa.Uuid(), nullable=False),
        sa.Column("product_version_id", sa.Uuid(), nullable=False),
        sa.Column("lender_id", sa.Uuid(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("annual_rate", sa.Numeric(precision=8, scale=6), nullable=False),
        sa.Column("apr", sa.Numeric(precision=12, scale=10), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("monthly_payment", sa.BigInteger(), nullable=False),
        sa.Column("total_cost", sa.BigInteger(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["lender_id"],
            ["organizations.id"],
            name=op.f("fk_preapproval_offers_lender_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["preapproval_id"],
            ["preapprovals.id"],
            name=op.f("fk_preapproval_offers_preapproval_id_preapprovals"),
        ),
        sa.ForeignKeyConstraint(
            ["product_version_id"],
            ["product_versions.id"],
            name=op.f("fk_preapproval_offers_product_version_id_product_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preapproval_offers")),
    )
    op.create_index(
        op.f("ix_preapproval_offers_preapproval_id"),
        "preapproval_offers",
        ["preapproval_id"],
        unique=False,
    )

    # Offers lock a product version's rates until the pre-approval expires, so a version is
    # never edited in place: a PATCH inserts a new one.
    op.execute(
        """
        CREATE FUNCTION product_versions_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'product_versions are immutable: insert a new version'
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER product_versions_immutable BEFORE UPDATE ON product_versions "
        "FOR EACH ROW EXECUTE FUNCTION product_versions_refuse_update()"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_preapproval_offers_preapproval_id"), table_name="preapproval_offers")
    op.drop_table("preapproval_offers")
    op.drop_index(op.f("ix_preapproval_lookups_preapproval_id"), table_name="preapproval_lookups")
    op.drop_table("preapproval_lookups")
    op.drop_table("product_versions")
    op.execute("DROP FUNCTION product_versions_refuse_update()")
    op.drop_index(
        "uq_preapprovals_person_hash_active",
        table_name="preapprovals",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_index(op.f("ix_preapprovals_expires_at"), table_name="preapprovals")
    op.drop_index(op.f("ix_preapprovals_buyer_id"), table_name="preapprovals")
    op.drop_table("preapprovals")
    op.drop_index(op.f("ix_products_lender_id"), table_name="products")
    op.drop_table("products")
    op.drop_index(op.f("ix_applications_person_hash"), table_name="applications")
    op.drop_index(op.f("ix_applications_dealer_id"), table_name="applications")
    op.drop_index(op.f("ix_applications_buyer_id"), table_name="applications")
    op.drop_table("applications")
    op.drop_index(op.f("ix_advisor_messages_buyer_id"), table_name="advisor_messages")
    op.drop_table("advisor_messages")
    op.drop_index(op.f("ix_advisor_assignments_advisor_id"), table_name="advisor_assignments")
    op.drop_table("advisor_assignments")
    op.drop_index("ix_rate_limit_events_key_occurred_at", table_name="rate_limit_events")
    op.drop_table("rate_limit_events")
    op.drop_index(op.f("ix_bureau_reports_person_hash"), table_name="bureau_reports")
    op.drop_table("bureau_reports")
