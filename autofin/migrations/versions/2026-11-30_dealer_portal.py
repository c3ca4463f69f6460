"""dealer portal: deals (quote → confirm → handover) and walk-in claim codes

Revision ID: 0300_dealer_portal
Revises: 0001_foundation
Create Date: 2026-11-30 11:47:16.778072
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0300_dealer_portal"
down_revision: str | None = "0101_servicing"
branch_labels: str | Sequence[str] | None = ("dealer_portal",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "walk_in_claims",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_walk_in_claims_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["organizations.id"],
            name=op.f("fk_walk_in_claims_dealer_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_walk_in_claims_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_in_claims")),
        sa.UniqueConstraint("user_id", name=op.f("uq_walk_in_claims_user_id")),
    )
    op.create_table(
        "dealer_deals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("preapproval_id", sa.Uuid(), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("product_version_id", sa.Uuid(), nullable=False),
        sa.Column("lender_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("make", sa.String(length=50), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("vehicle_type", sa.String(length=8), nullable=False),
        sa.Column("car_price", sa.BigInteger(), nullable=False),
        sa.Column("down_payment_amount", sa.BigInteger(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("annual_rate", sa.Numeric(precision=8, scale=6), nullable=False),
        sa.Column("apr", sa.Numeric(precision=12, scale=10), nullable=False),
        sa.Column("monthly_payment", sa.BigInteger(), nullable=False),
        sa.Column("total_interest", sa.BigInteger(), nullable=False),
        sa.Column("total_cost", sa.BigInteger(), nullable=False),
        sa.Column("upfront_fee", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("grade", sa.String(length=2), nullable=False),
        sa.Column("platform_guarantee", sa.Boolean(), nullable=False),
        sa.Column("quote", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("identity_verified_by", sa.String(length=80), nullable=True),
        sa.Column("loan_id", sa.Uuid(), nullable=True),
        sa.Column("down_payment_status", sa.String(length=16), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("down_payment_failure_code", sa.String(length=100), nullable=True),
        sa.Column("down_payment_failure_message", sa.String(length=300), nullable=True),
        sa.Column("refund_id", sa.String(length=255), nullable=True),
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
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("down_payment_paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "car_price > down_payment_amount", name=op.f("ck_dealer_deals_price_above_down_payment")
        ),
        sa.CheckConstraint(
            "down_payment_amount > 0", name=op.f("ck_dealer_deals_down_payment_positive")
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_dealer_deals_buyer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["organizations.id"],
            name=op.f("fk_dealer_deals_dealer_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"],
            ["organizations.id"],
            name=op.f("fk_dealer_deals_lender_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_dealer_deals_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["preapproval_offers.id"],
            name=op.f("fk_dealer_deals_offer_id_preapproval_offers"),
        ),
        sa.ForeignKeyConstraint(
            ["preapproval_id"],
            ["preapprovals.id"],
            name=op.f("fk_dealer_deals_preapproval_id_preapprovals"),
        ),
        sa.ForeignKeyConstraint(
            ["product_version_id"],
            ["product_versions.id"],
            name=op.f("fk_dealer_deals_product_version_id_product_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dealer_deals")),
        sa.UniqueConstraint("loan_id", name=op.f("uq_dealer_deals_loan_id")),
        sa.UniqueConstraint("payment_intent_id", name=op.f("uq_dealer_deals_payment_intent_id")),
        sa.UniqueConstraint("refund_id", name=op.f("uq_dealer_deals_refund_id")),
    )
    op.create_index(
        "ix_dealer_deals_dealer_id_status", "dealer_deals", ["dealer_id", "status"], unique=False
    )
    op.create_index(
        op.f("ix_dealer_deals_preapproval_id"), "dealer_deals", ["preapproval_id"], unique=False
    )
    op.create_index(op.f("ix_dealer_deals_vin"), "dealer_deals", ["vin"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dealer_deals_vin"), table_name="dealer_deals")
    op.drop_index(op.f("ix_dealer_deals_preapproval_id"), table_name="dealer_deals")
    op.drop_index("ix_dealer_deals_dealer_id_status", table_name="dealer_deals")
    op.drop_table("dealer_deals")
    op.drop_table("walk_in_claims")
