"""scale indexes: what the daily jobs and the reconciliation look for, among millions of rows

At 200,000 loans (millions of instalments) and a million pre-approvals, each daily job's query
must find its few rows through an index instead of reading the table: unpaid instalments
already due (by date, and by loan), loans behind or never serviced, repayments still
processing, undecided applications, approvals past their validity, deals waiting on Stripe;
and approvals find the advisors among the buyers.

Revision ID: 0004_scale_indexes
Revises: 0300_dealer_portal (after every table it indexes: servicing, applications, users)
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_scale_indexes"
# On the dealer_portal line, which descends from servicing, marketplace and the foundation: a
# ``depends_on`` across lines would leave the dependency a head in the scripts but not in the
# database, and /readyz would call the schema behind.
down_revision: str | Sequence[str] | None = "0300_dealer_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_loans_to_service",
        "loans",
        ["id"],
        postgresql_where=sa.text(
            "status = 'active' AND (delinquency_as_of IS NULL OR days_past_due <> 0)"
        ),
    )
    op.create_index(
        "ix_loan_installments_unpaid_due_date",
        "loan_installments",
        ["due_date"],
        postgresql_where=sa.text("status <> 'paid'"),
    )
    op.create_index(
        "ix_loan_installments_unpaid_loan_id_due_date",
        "loan_installments",
        ["loan_id", "due_date"],
        postgresql_where=sa.text("status <> 'paid'"),
    )
    op.create_index(
        "ix_loan_payments_processing_created_at",
        "loan_payments",
        ["created_at"],
        postgresql_where=sa.text("status = 'processing'"),
    )
    op.create_index(
        "ix_applications_undecided_created_at",
        "applications",
        ["created_at"],
        postgresql_where=sa.text("status IN ('submitted', 'pending_bureau')"),
    )
    op.create_index("ix_dealer_deals_status_updated_at", "dealer_deals", ["status", "updated_at"])
    op.create_index("ix_users_kind", "users", ["kind"])
    op.create_index(
        "ix_preapprovals_active_expires_at",
        "preapprovals",
        ["expires_at"],
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("ix_preapprovals_active_expires_at", table_name="preapprovals")
    op.drop_index("ix_users_kind", table_name="users")
    op.drop_index("ix_dealer_deals_status_updated_at", table_name="dealer_deals")
    op.drop_index("ix_applications_undecided_created_at", table_name="applications")
    op.drop_index("ix_loan_payments_processing_created_at", table_name="loan_payments")
    op.drop_index("ix_loan_installments_unpaid_loan_id_due_date", table_name="loan_installments")
    op.drop_index("ix_loan_installments_unpaid_due_date", table_name="loan_installments")
    op.drop_index("ix_loans_to_service", table_name="loans")
