"""identity and consent: phones encrypted with a keyed look-up hash (one account per phone),
accounts bound to one verified person, one-time SMS codes, consents recorded per application

Revision ID: 0110_identity_consent
Revises: 0102_applicant_profile
Create Date: 2026-12-03 07:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0110_identity_consent"
down_revision: str | None = "0102_applicant_profile"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("phone_encrypted", sa.String(length=200), nullable=True))
    op.add_column("users", sa.Column("phone_hash", sa.String(length=64), nullable=True))
    op.add_column("users", sa.Column("person_hash", sa.String(length=64), nullable=True))
    op.add_column(
        "users", sa.Column("identity_verified_at", sa.DateTime(timezone=True), nullable=True)
    )
    _encrypt_existing_phones()
    op.drop_index(op.f("ix_users_phone"), table_name="users")
    op.drop_column("users", "phone")
    op.create_unique_constraint(op.f("uq_users_phone_hash"), "users", ["phone_hash"])
    op.create_unique_constraint(op.f("uq_users_person_hash"), "users", ["person_hash"])

    op.create_table(
        "sms_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_codes")),
    )
    op.create_index(op.f("ix_sms_codes_phone_hash"), "sms_codes", ["phone_hash"])

    op.create_table(
        "consents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("text", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("recipients", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_consents_user_id_users")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_consents_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
        sa.UniqueConstraint("application_id", "kind", name=op.f("uq_consents_application_id")),
    )
    op.create_index(op.f("ix_consents_user_id"), "consents", ["user_id"])


def _encrypt_existing_phones() -> None:
    """Existing plaintext phones become ciphertext and a keyed hash; where several accounts
    share a phone, the oldest keeps it (one account per phone from now on)."""
    from shared import pii
    from shared.identifiers import normalize_cn_mobile

    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, phone FROM users WHERE phone IS NOT NULL ORDER BY created_at, id")
    ).all()
    seen: set[str] = set()
    for user_id, phone in rows:
        try:
            normalized = normalize_cn_mobile(phone)
        except ValueError:
            continue
        phone_hash = pii.lookup_hash(normalized)
        if phone_hash in seen:
            continue
        seen.add(phone_hash)
        connection.execute(
            sa.text(
                "UPDATE users SET phone_encrypted = :ciphertext, phone_hash = :hash WHERE id = :id"
            ),
            {"ciphertext": pii.encrypt(normalized), "hash": phone_hash, "id": user_id},
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_consents_user_id"), table_name="consents")
    op.drop_table("consents")
    op.drop_index(op.f("ix_sms_codes_phone_hash"), table_name="sms_codes")
    op.drop_table("sms_codes")
    op.drop_constraint(op.f("uq_users_person_hash"), "users", type_="unique")
    op.drop_constraint(op.f("uq_users_phone_hash"), "users", type_="unique")
    op.add_column("users", sa.Column("phone", sa.String(length=20), nullable=True))
    op.create_index(op.f("ix_users_phone"), "users", ["phone"], unique=False)
    # The phones stay encrypted: decrypting them back into plaintext is not done here.
    for column in ("identity_verified_at", "person_hash", "phone_hash", "phone_encrypted"):
        op.drop_column("users", column)
