"""funding: disbursements to dealers, dealers' payout accounts, dealer fees, one live loan a car

Products gain ``dealer_fee`` (fen kept from the dealer's disbursement; 0 for every existing
version, which keeps their terms); ``disbursements`` records what each funded loan sends its
dealer and how (one per loan); ``dealer_payout_accounts`` holds a dealer's Stripe connected
account; a partial unique index lets a VIN back at most one loan waiting for funding or active.

The index cannot be built over a database that already holds two live loans on one car: such
pairs must be resolved (one of them cancelled) before upgrading.

Revision ID: 0150_funding
Revises: 0120_deal_decisions (the dealer_portal line: loans, deals and product versions exist)
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0150_funding"
down_revision: str | Sequence[str] | None = "0120_deal_decisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Adding a column rewrites no row, so the immutable versions' trigger is not involved.
    op.add_column(
        "product_versions",
        sa.Column("dealer_fee", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.create_index(
        "uq_loans_vin_live",
        "loans",
        [sa.text("(vehicle ->> 'vin')")],
        unique=True,
        postgresql_where=sa.text("status IN ('pending_funding', 'active')"),
    )
    op.create_table(
        "disbursements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("lender_id", sa.Uuid(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("dealer_fee", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=255), nullable=True),
        sa.Column("transfer_id", sa.String(length=255), nullable=True),
        sa.Column("failure_code", sa.String(length=100), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_disbursements_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_disbursements_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["organizations.id"],
            name=op.f("fk_disbursements_dealer_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"],
            ["organizations.id"],
            name=op.f("fk_disbursements_lender_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disbursements")),
        sa.UniqueConstraint("loan_id", name=op.f("uq_disbursements_loan_id")),
        sa.UniqueConstraint("transfer_id", name=op.f("uq_disbursements_transfer_id")),
    )
    op.create_index(op.f("ix_disbursements_dealer_id"), "disbursements", ["dealer_id"])
    op.create_index(
        "ix_disbursements_pending",
        "disbursements",
        ["created_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "dealer_payout_accounts",
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("stripe_account_id", sa.String(length=255), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["organizations.id"],
            name=op.f("fk_dealer_payout_accounts_dealer_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("dealer_id", name=op.f("pk_dealer_payout_accounts")),
    )


def downgrade() -> None:
    op.drop_table("dealer_payout_accounts")
    op.drop_index("ix_disbursements_pending", table_name="disbursements")
    op.drop_index(op.f("ix_disbursements_dealer_id"), table_name="disbursements")
    op.drop_table("disbursements")
    op.drop_index("uq_loans_vin_live", table_name="loans")
    op.drop_column("product_versions", "dealer_fee")
