"""applicant profile: marital status, employment type, expenses, assets, dependents (optional)

Revision ID: 0102_applicant_profile
Revises: 0101_servicing
Create Date: 2026-12-03 06:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0102_applicant_profile"
down_revision: str | None = "0101_servicing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("applications", sa.Column("marital_status", sa.String(length=16), nullable=True))
    op.add_column("applications", sa.Column("employment_type", sa.String(length=16), nullable=True))
    op.add_column("applications", sa.Column("monthly_expenses", sa.BigInteger(), nullable=True))
    op.add_column("applications", sa.Column("assets", sa.BigInteger(), nullable=True))
    op.add_column("applications", sa.Column("dependents", sa.Integer(), nullable=True))


def downgrade() -> None:
    for column in ("dependents", "assets", "monthly_expenses", "employment_type", "marital_status"):
        op.drop_column("applications", column)
