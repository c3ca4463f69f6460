"""servicing: loans, instalments, repayments, the loan ledger, buyers' payment profiles

Revision ID: 0101_servicing
Revises: 0100_marketplace
Create Date: 2026-11-30 11:43:49.994645
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0101_servicing"
down_revision: str | None = "0100_marketplace"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "buyer_payment_profiles",
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=False),
        sa.Column("payment_method_id", sa.String(length=255), nullable=True),
        sa.Column("card_brand", sa.String(length=32), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
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
            ["buyer_id"], ["users.id"], name=op.f("fk_buyer_payment_profiles_buyer_id_users")
        ),
        sa.PrimaryKeyConstraint("buyer_id", name=op.f("pk_buyer_payment_profiles")),
        sa.UniqueConstraint(
            "stripe_customer_id", name=op.f("uq_buyer_payment_profiles_stripe_customer_id")
        ),
    )
    op.create_table(
        "loans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("preapproval_id", sa.Uuid(), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("product_version_id", sa.Uuid(), nullable=False),
        sa.Column("lender_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("annual_rate", sa.Numeric(precision=8, scale=6), nullable=False),
        sa.Column("apr", sa.Numeric(precision=12, scale=10), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("upfront_fee", sa.BigInteger(), nullable=False),
        sa.Column("monthly_payment", sa.BigInteger(), nullable=False),
        sa.Column("grade", sa.String(length=2), nullable=False),
        sa.Column("platform_guarantee", sa.Boolean(), nullable=False),
        sa.Column("auto_fund", sa.Boolean(), nullable=False),
        sa.Column("loan_date", sa.Date(), nullable=False),
        sa.Column("vehicle", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=8), nullable=False),
        sa.Column("delinquency_as_of", sa.Date(), nullable=True),
        sa.Column("funded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"], name=op.f("fk_loans_buyer_id_users")),
        sa.ForeignKeyConstraint(
            ["dealer_id"], ["organizations.id"], name=op.f("fk_loans_dealer_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"], ["organizations.id"], name=op.f("fk_loans_lender_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["preapproval_offers.id"],
            name=op.f("fk_loans_offer_id_preapproval_offers"),
        ),
        sa.ForeignKeyConstraint(
            ["preapproval_id"],
            ["preapprovals.id"],
            name=op.f("fk_loans_preapproval_id_preapprovals"),
        ),
        sa.ForeignKeyConstraint(
            ["product_version_id"],
            ["product_versions.id"],
            name=op.f("fk_loans_product_version_id_product_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
    )
    op.create_index(op.f("ix_loans_buyer_id"), "loans", ["buyer_id"], unique=False)
    op.create_index(op.f("ix_loans_dealer_id"), "loans", ["dealer_id"], unique=False)
    op.create_index(op.f("ix_loans_lender_id"), "loans", ["lender_id"], unique=False)
    op.create_index("ix_loans_status_lender_id", "loans", ["status", "lender_id"], unique=False)
    op.create_index(
        "uq_loans_preapproval_id_live",
        "loans",
        ["preapproval_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.create_table(
        "loan_installments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("payment", sa.BigInteger(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("interest_charged", sa.BigInteger(), nullable=True),
        sa.Column("paid_amount", sa.BigInteger(), nullable=False),
        sa.Column("late_fee", sa.BigInteger(), nullable=False),
        sa.Column("late_fee_paid", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_installments_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_installments")),
        sa.UniqueConstraint("loan_id", "n", name=op.f("uq_loan_installments_loan_id_n")),
    )
    op.create_index(
        op.f("ix_loan_installments_due_date"), "loan_installments", ["due_date"], unique=False
    )
    op.create_table(
        "loan_payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("installments", sa.Integer(), nullable=True),
        sa.Column("payoff_on", sa.Date(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_loan_payments_buyer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_payments_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_payments")),
        sa.UniqueConstraint("payment_intent_id", name=op.f("uq_loan_payments_payment_intent_id")),
    )
    op.create_index(op.f("ix_loan_payments_loan_id"), "loan_payments", ["loan_id"], unique=False)
    op.create_table(
        "loan_ledger",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("entry_type", sa.String(length=16), nullable=False),
        sa.Column("entry_key", sa.String(length=80), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("installment_n", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_ledger_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["loan_payments.id"],
            name=op.f("fk_loan_ledger_payment_id_loan_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_ledger")),
        sa.UniqueConstraint("loan_id", "entry_key", name=op.f("uq_loan_ledger_loan_id_entry_key")),
    )

    # The loan ledger is append-only, like the audit log: balances are derived from it.
    op.execute(
        """
        CREATE FUNCTION loan_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'loan_ledger is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER loan_ledger_append_only BEFORE UPDATE OR DELETE ON loan_ledger "
        "FOR EACH ROW EXECUTE FUNCTION loan_ledger_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER loan_ledger_no_truncate BEFORE TRUNCATE ON loan_ledger "
        "FOR EACH STATEMENT EXECUTE FUNCTION loan_ledger_refuse_change()"
    )
    op.execute("ALTER TABLE loan_ledger ENABLE ALWAYS TRIGGER loan_ledger_append_only")
    op.execute("ALTER TABLE loan_ledger ENABLE ALWAYS TRIGGER loan_ledger_no_truncate")


def downgrade() -> None:
    op.drop_table("loan_ledger")
    op.drop_index(op.f("ix_loan_payments_loan_id"), table_name="loan_payments")
    op.drop_table("loan_payments")
    op.drop_index(op.f("ix_loan_installments_due_date"), table_name="loan_installments")
    op.drop_table("loan_installments")
    op.drop_index(
        "uq_loans_preapproval_id_live",
        table_name="loans",
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.drop_index("ix_loans_status_lender_id", table_name="loans")
    op.drop_index(op.f("ix_loans_lender_id"), table_name="loans")
    op.drop_index(op.f("ix_loans_dealer_id"), table_name="loans")
    op.drop_index(op.f("ix_loans_buyer_id"), table_name="loans")
    op.drop_table("loans")
    op.drop_table("buyer_payment_profiles")
    op.execute("DROP FUNCTION loan_ledger_refuse_change()")
