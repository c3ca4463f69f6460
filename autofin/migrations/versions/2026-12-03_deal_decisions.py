"""deal decisions: the lender's final decision, stipulations, documents and signed contracts

Products gain ``auto_approve`` and ``funding_gates``; deals on products that do not auto-fund
carry their decision, counter-offer, signed contract and insurance; stipulations, uploaded
documents (bytes outside the database, addressed by SHA-256) and contract signatures
(append-only, like the audit log) get tables of their own.

Revision ID: 0120_deal_decisions
Revises: 0004_brands (the dealer_portal line, after every table referenced here)
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0120_deal_decisions"
down_revision: str | Sequence[str] | None = "0004_brands"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_GATES = '\'["contract_signed", "stipulations", "insurance"]\'::jsonb'


def upgrade() -> None:
    op.add_column("product_versions", sa.Column("auto_approve", postgresql.JSONB(), nullable=True))
    op.add_column(
        "product_versions",
        sa.Column(
            "funding_gates",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text(DEFAULT_GATES),
        ),
    )
    timestamp = sa.DateTime(timezone=True)
    for column in (
        sa.Column("decision_status", sa.String(24), nullable=True),
        sa.Column("decision_due_at", timestamp, nullable=True),
        sa.Column("decided_at", timestamp, nullable=True),
        sa.Column("decision_reasons", postgresql.JSONB(), nullable=True),
        sa.Column("counter_offer", postgresql.JSONB(), nullable=True),
        sa.Column("contract_signed_sha256", sa.String(64), nullable=True),
        sa.Column("contract_signed_at", timestamp, nullable=True),
        sa.Column("insurance", postgresql.JSONB(), nullable=True),
    ):
        op.add_column("dealer_deals", column)
    op.create_index(
        "ix_dealer_deals_lender_id_decision_status",
        "dealer_deals",
        ["lender_id", "decision_status"],
        postgresql_where=sa.text("decision_status IS NOT NULL"),
    )
    op.create_index("ix_dealer_deals_buyer_id", "dealer_deals", ["buyer_id"])

    op.create_table(
        "deal_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by", sa.String(80), nullable=False),
        sa.Column("uploader_role", sa.String(16), nullable=False),
        sa.Column("stipulation_id", sa.Uuid(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", timestamp, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["dealer_deals.id"], name=op.f("fk_deal_documents_deal_id_dealer_deals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_documents")),
    )
    op.create_index(op.f("ix_deal_documents_deal_id"), "deal_documents", ["deal_id"])

    op.create_table(
        "deal_stipulations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("due_at", timestamp, server_default=sa.func.now(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("reviewed_by", sa.String(80), nullable=True),
        sa.Column("reviewed_at", timestamp, nullable=True),
        sa.Column("created_at", timestamp, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["dealer_deals.id"],
            name=op.f("fk_deal_stipulations_deal_id_dealer_deals"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["deal_documents.id"],
            name=op.f("fk_deal_stipulations_document_id_deal_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_stipulations")),
        sa.UniqueConstraint("deal_id", "type", name=op.f("uq_deal_stipulations_deal_id_type")),
    )
    op.create_index(op.f("ix_deal_stipulations_deal_id"), "deal_stipulations", ["deal_id"])

    op.create_table(
        "contract_signatures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("phone_hash", sa.String(64), nullable=False),
        sa.Column("phone_masked", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("verification", sa.String(200), nullable=False),
        sa.Column("signed_at", timestamp, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_contract_signatures_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["dealer_deals.id"],
            name=op.f("fk_contract_signatures_deal_id_dealer_deals"),
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_contract_signatures_buyer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_signatures")),
        sa.UniqueConstraint("loan_id", name=op.f("uq_contract_signatures_loan_id")),
    )
    op.create_index("ix_contract_signatures_deal_id", "contract_signatures", ["deal_id"])
    # Signatures are evidence: append-only, like the audit log and the loan ledger.
    op.execute(
        """
        CREATE FUNCTION contract_signatures_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'contract_signatures is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER contract_signatures_append_only BEFORE UPDATE OR DELETE "
        "ON contract_signatures FOR EACH ROW EXECUTE FUNCTION contract_signatures_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER contract_signatures_no_truncate BEFORE TRUNCATE ON contract_signatures "
        "FOR EACH STATEMENT EXECUTE FUNCTION contract_signatures_refuse_change()"
    )
    op.execute(
        "ALTER TABLE contract_signatures ENABLE ALWAYS TRIGGER contract_signatures_append_only"
    )
    op.execute(
        "ALTER TABLE contract_signatures ENABLE ALWAYS TRIGGER contract_signatures_no_truncate"
    )


def downgrade() -> None:
    op.drop_table("contract_signatures")
    op.execute("DROP FUNCTION contract_signatures_refuse_change()")
    op.drop_table("deal_stipulations")
    op.drop_table("deal_documents")
    op.drop_index("ix_dealer_deals_buyer_id", table_name="dealer_deals")
    op.drop_index("ix_dealer_deals_lender_id_decision_status", table_name="dealer_deals")
    for name in (
        "insurance",
        "contract_signed_at",
        "contract_signed_sha256",
        "counter_offer",
        "decision_reasons",
        "decided_at",
        "decision_due_at",
        "decision_status",
    ):
        op.drop_column("dealer_deals", name)
    op.drop_column("product_versions", "funding_gates")
    op.drop_column("product_versions", "auto_approve")
