"""brands: a catalogue of car brands with every name that leads to one, seeded for China

Brands were free text compared as strings ("比亚迪" was not "BYD"). This adds the catalogue
(``brands``, and ``brand_names``: one row per name, alias or VIN manufacturer in its compared
form, whose primary key keeps any name from meaning two brands), seeds it with the brands sold
in China, and rewrites the brands already stored — dealers' brands, product subsidies and deals'
makes — as catalogue ids wherever a name matches (anything else is left as it was, and so never
matches a subsidy). Product versions are immutable by trigger; the trigger is set aside for this
one rewrite of spelling, which changes no terms.

Revision ID: 0004_brands
Revises: 0003_under_load and 0300_dealer_portal (whose tables hold brands; a merge rather than a
    dependency, so the database's current revisions stay equal to the script's heads)
Create Date: 2026-12-03 07:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.brands.catalogue import SEED_BRANDS, name_key

revision: str = "0004_brands"
down_revision: str | Sequence[str] | None = ("0003_under_load", "0300_dealer_portal")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brands",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=50), nullable=False),
        sa.Column("name_en", sa.String(length=50), nullable=False),
        sa.Column("aliases", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("manufacturers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brands")),
    )
    op.create_table(
        "brand_names",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_brand_names_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_brand_names")),
    )
    op.create_index(op.f("ix_brand_names_brand_id"), "brand_names", ["brand_id"], unique=False)

    # The seed as it stands today; later changes to the catalogue come as migrations or edits.
    brands = sa.table(
        "brands",
        sa.column("id", sa.String),
        sa.column("name_zh", sa.String),
        sa.column("name_en", sa.String),
        sa.column("aliases", postgresql.JSONB),
        sa.column("manufacturers", postgresql.JSONB),
    )
    names = sa.table("brand_names", sa.column("key", sa.String), sa.column("brand_id", sa.String))
    op.bulk_insert(
        brands,
        [
            {
                "id": seed.id,
                "name_zh": seed.name_zh,
                "name_en": seed.name_en,
                "aliases": list(seed.aliases),
                "manufacturers": list(seed.manufacturers),
            }
            for seed in SEED_BRANDS
        ],
    )
    owner: dict[str, str] = {}
    for seed in SEED_BRANDS:
        for name in (seed.id, seed.name_zh, seed.name_en, *seed.aliases, *seed.manufacturers):
            key = name_key(name)
            if owner.setdefault(key, seed.id) != seed.id:
                raise RuntimeError(f"the seed gives {name!r} to two brands")
    op.bulk_insert(names, [{"key": key, "brand_id": brand} for key, brand in owner.items()])
    _canonicalise_stored_brands(owner)


def _canonical(owner: dict[str, str], name: object) -> object:
    return owner.get(name_key(name), name) if isinstance(name, str) else name


def _canonical_list(owner: dict[str, str], names: list[object]) -> list[object]:
    result: list[object] = []
    for name in names:
        canonical = _canonical(owner, name)
        if canonical not in result:
            result.append(canonical)
    return result


def _canonicalise_stored_brands(owner: dict[str, str]) -> None:
    bind = op.get_bind()
    for org_id, stored in bind.execute(sa.text("SELECT id, brands FROM organizations")).all():
        rewritten = _canonical_list(owner, list(stored or []))
        if rewritten != stored:
            bind.execute(
                sa.text("UPDATE organizations SET brands = CAST(:brands AS jsonb) WHERE id = :id"),
                {"brands": json.dumps(rewritten), "id": org_id},
            )
    for deal_id, make in bind.execute(sa.text("SELECT id, make FROM dealer_deals")).all():
        canonical = _canonical(owner, make)
        if canonical != make:
            bind.execute(
                sa.text("UPDATE dealer_deals SET make = :make WHERE id = :id"),
                {"make": canonical, "id": deal_id},
            )
    versions = bind.execute(
        sa.text("SELECT id, subsidy FROM product_versions WHERE subsidy IS NOT NULL")
    ).all()
    rewrites = []
    for version_id, subsidy in versions:
        if not isinstance(subsidy, dict) or not isinstance(subsidy.get("brands"), list):
            continue
        rewritten = _canonical_list(owner, subsidy["brands"])
        if rewritten != subsidy["brands"]:
            rewrites.append((version_id, subsidy | {"brands": rewritten}))
    if rewrites:
        op.execute("ALTER TABLE product_versions DISABLE TRIGGER product_versions_immutable")
        for version_id, subsidy in rewrites:
            bind.execute(
                sa.text("UPDATE product_versions SET subsidy = CAST(:s AS jsonb) WHERE id = :id"),
                {"s": json.dumps(subsidy), "id": version_id},
            )
        op.execute("ALTER TABLE product_versions ENABLE TRIGGER product_versions_immutable")


def downgrade() -> None:
    op.drop_index(op.f("ix_brand_names_brand_id"), table_name="brand_names")
    op.drop_table("brand_names")
    op.drop_table("brands")
