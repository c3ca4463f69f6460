"""collections: debit mandates and attempts, reminders, collectors' notes, guarantee claims and
reserve, and the products' collection terms

Revision ID: 0120_collections
Revises: 0101_servicing
Create Date: 2026-12-03 08:42:53.261780
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0120_collections"
down_revision: str | None = "0101_servicing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collection_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("promised_amount", sa.BigInteger(), nullable=True),
        sa.Column("promised_on", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_collection_notes_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_collection_notes_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_notes")),
    )
    op.create_index(
        op.f("ix_collection_notes_loan_id"), "collection_notes", ["loan_id"], unique=False
    )
    op.create_table(
        "collection_notices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notice_key", sa.String(length=160), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_collection_notices_buyer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_collection_notices_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_notices")),
        sa.UniqueConstraint("notice_key", name=op.f("uq_collection_notices_notice_key")),
    )
    op.create_index(
        op.f("ix_collection_notices_loan_id"), "collection_notices", ["loan_id"], unique=False
    )
    op.create_index(
        "ix_collection_notices_pending",
        "collection_notices",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "guarantee_claims",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("lender_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"],
            ["organizations.id"],
            name=op.f("fk_guarantee_claims_lender_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_guarantee_claims_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantee_claims")),
        sa.UniqueConstraint("loan_id", name=op.f("uq_guarantee_claims_loan_id")),
    )
    op.create_index(
        op.f("ix_guarantee_claims_lender_id"), "guarantee_claims", ["lender_id"], unique=False
    )
    op.create_table(
        "guarantee_ledger",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("entry_key", sa.String(length=120), nullable=False),
        sa.Column("entry_type", sa.String(length=16), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("lender_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"],
            ["organizations.id"],
            name=op.f("fk_guarantee_ledger_lender_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_guarantee_ledger_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantee_ledger")),
        sa.UniqueConstraint("entry_key", name=op.f("uq_guarantee_ledger_entry_key")),
    )
    op.create_index(
        op.f("ix_guarantee_ledger_loan_id"), "guarantee_ledger", ["loan_id"], unique=False
    )
    op.create_table(
        "loan_mandates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("collector", sa.String(length=32), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("payment_method_ref", sa.String(length=255), nullable=False),
        sa.Column("card_brand", sa.String(length=32), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("text_version", sa.String(length=32), nullable=False),
        sa.Column("agreed_text", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column(
            "agreed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_loan_mandates_buyer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_mandates_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_mandates")),
    )
    op.create_index(op.f("ix_loan_mandates_loan_id"), "loan_mandates", ["loan_id"], unique=False)
    op.create_index(
        "uq_loan_mandates_loan_id_active",
        "loan_mandates",
        ["loan_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "debit_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("mandate_id", sa.Uuid(), nullable=False),
        sa.Column("installment_n", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_on", sa.Date(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_debit_attempts_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["mandate_id"],
            ["loan_mandates.id"],
            name=op.f("fk_debit_attempts_mandate_id_loan_mandates"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["loan_payments.id"],
            name=op.f("fk_debit_attempts_payment_id_loan_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debit_attempts")),
        sa.UniqueConstraint(
            "loan_id", "attempted_on", name=op.f("uq_debit_attempts_loan_id_attempted_on")
        ),
        sa.UniqueConstraint(
            "loan_id",
            "installment_n",
            "attempt",
            name=op.f("uq_debit_attempts_loan_id_installment_n_attempt"),
        ),
        sa.UniqueConstraint("payment_id", name=op.f("uq_debit_attempts_payment_id")),
    )
    op.add_column(
        "product_versions",
        sa.Column("collections", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    # The guarantee reserve is append-only, like the loan ledger: the reserve is its sum.
    op.execute(
        """
        CREATE FUNCTION guarantee_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'guarantee_ledger is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER guarantee_ledger_append_only BEFORE UPDATE OR DELETE ON guarantee_ledger "
        "FOR EACH ROW EXECUTE FUNCTION guarantee_ledger_refuse_change()"
    )
    op.execute("ALTER TABLE guarantee_ledger ENABLE ALWAYS TRIGGER guarantee_ledger_append_only")


def downgrade() -> None:
    op.drop_column("product_versions", "collections")
    op.drop_table("debit_attempts")
    op.drop_index(
        "uq_loan_mandates_loan_id_active",
        table_name="loan_mandates",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_index(op.f("ix_loan_mandates_loan_id"), table_name="loan_mandates")
    op.drop_table("loan_mandates")
    op.drop_index(op.f("ix_guarantee_ledger_loan_id"), table_name="guarantee_ledger")
    op.drop_table("guarantee_ledger")
    op.execute("DROP FUNCTION guarantee_ledger_refuse_change()")
    op.drop_index(op.f("ix_guarantee_claims_lender_id"), table_name="guarantee_claims")
    op.drop_table("guarantee_claims")
    op.drop_index(
        "ix_collection_notices_pending",
        table_name="collection_notices",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index(op.f("ix_collection_notices_loan_id"), table_name="collection_notices")
    op.drop_table("collection_notices")
    op.drop_index(op.f("ix_collection_notes_loan_id"), table_name="collection_notes")
    op.drop_table("collection_notes")
