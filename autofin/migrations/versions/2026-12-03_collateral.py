"""collateral: the car registered as the lender's collateral after funding, released at payoff

Product versions gain ``collateral_days`` (60 unless the lender sets it); ``loan_collateral``
holds one row per funded loan: the registration the dealer owes by ``due_on``, the overdue
flag, then the release (解押) instructions and the release. No rows are made for loans funded
before this revision (the record starts with the loan's activation).

Revision ID: 0151_collateral
Revises: 0120_deal_decisions (the dealer_portal line, after every table referenced here:
loans, product_versions, deal_documents)
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0151_collateral"
down_revision: str | Sequence[str] | None = "0120_deal_decisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A column with a constant default is added without rewriting (or updating) any row, so the
    # trigger that keeps versions immutable is not involved.
    op.add_column(
        "product_versions",
        sa.Column("collateral_days", sa.Integer(), nullable=False, server_default="60"),
    )
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "loan_collateral",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("lender_id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("funded_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("overdue_at", timestamp, nullable=True),
        sa.Column("registration_number", sa.String(length=64), nullable=True),
        sa.Column("authority", sa.String(length=200), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("registered_at", timestamp, nullable=True),
        sa.Column("registered_by", sa.String(length=80), nullable=True),
        sa.Column("release_instructions", postgresql.JSONB(), nullable=True),
        sa.Column("release_issued_at", timestamp, nullable=True),
        sa.Column("released_on", sa.Date(), nullable=True),
        sa.Column("release_document_id", sa.Uuid(), nullable=True),
        sa.Column("released_at", timestamp, nullable=True),
        sa.Column("released_by", sa.String(length=80), nullable=True),
        sa.Column("created_at", timestamp, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", timestamp, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_collateral_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"],
            ["organizations.id"],
            name=op.f("fk_loan_collateral_lender_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["organizations.id"],
            name=op.f("fk_loan_collateral_dealer_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["deal_documents.id"],
            name=op.f("fk_loan_collateral_document_id_deal_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["release_document_id"],
            ["deal_documents.id"],
            name=op.f("fk_loan_collateral_release_document_id_deal_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_collateral")),
        sa.UniqueConstraint("loan_id", name=op.f("uq_loan_collateral_loan_id")),
    )
    op.create_index(
        "ix_loan_collateral_awaiting_due_on",
        "loan_collateral",
        ["due_on"],
        postgresql_where=sa.text("status = 'awaiting' AND overdue_at IS NULL"),
    )
    op.create_index(
        "ix_loan_collateral_lender_id_status", "loan_collateral", ["lender_id", "status"]
    )
    op.create_index(
        "ix_loan_collateral_dealer_id_status", "loan_collateral", ["dealer_id", "status"]
    )


def downgrade() -> None:
    op.drop_table("loan_collateral")
    op.drop_column("product_versions", "collateral_days")
