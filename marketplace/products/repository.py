"""SQL for products and their versions."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.products.models import (
    CatalogueGeneration,
    Product,
    ProductStatus,
    ProductVersion,
)
from shared.identity.models import Organization, OrganizationStatus
from shared.pagination import paginate

_is_current_version = (col(ProductVersion.product_id) == col(Product.id)) & (
    col(ProductVersion.version) == col(Product.current_version)
)


async def get_product(
    session: AsyncSession, lender_id: uuid.UUID, product_id: uuid.UUID, *, for_update: bool = False
) -> Product | None:
    """The lender's own product (None for another lender's), locked when ``for_update``."""
    statement = select(Product).where(
        col(Product.id) == product_id, col(Product.lender_id) == lender_id
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def get_version(session: AsyncSession, product_id: uuid.UUID, version: int) -> ProductVersion:
    statement = select(ProductVersion).where(
        col(ProductVersion.product_id) == product_id, col(ProductVersion.version) == version
    )
    return (await session.execute(statement)).scalar_one()


async def list_versions(session: AsyncSession, product_id: uuid.UUID) -> Sequence[ProductVersion]:
    statement = (
        select(ProductVersion)
        .where(col(ProductVersion.product_id) == product_id)
        .order_by(col(ProductVersion.version))
    )
    return (await session.execute(statement)).scalars().all()


async def list_products(
    session: AsyncSession,
    lender_id: uuid.UUID,
    *,
    status: ProductStatus | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[tuple[Product, ProductVersion]], int]:
    """A page of the lender's products with their current versions, oldest first, and the total."""
    condition = col(Product.lender_id) == lender_id
    if status is not None:
        condition &= col(Product.status) == status
    statement = (
        select(Product, ProductVersion)
        .join(ProductVersion, _is_current_version)
        .where(condition)
        .order_by(col(Product.created_at), col(Product.id))
    )
    return await paginate(session, statement, limit=limit, offset=offset)


# What an application matches against is prepared once per catalogue generation
# (``CatalogueGeneration``): while the generation stands, only it is read — on its own, or
# within another statement (``GENERATION``: the new approval's INSERT reads it).
_GENERATION = select(col(CatalogueGeneration.generation))
GENERATION = _GENERATION.scalar_subquery()

# Built once, not on every approval (building the join and its cache key was 5 % of an
# application's CPU). The generation comes with the ids, read in the same snapshot.
_MATCHABLE_VERSION_IDS = select(
    GENERATION,
    select(
        func.array_agg(
            aggregate_order_by(col(ProductVersion.id), col(Product.created_at), col(Product.id))
        )
    )
    .select_from(ProductVersion)
    .join(Product, _is_current_version)
    .join(Organization, col(Organization.id) == col(Product.lender_id))
    .where(
        col(Product.status) == ProductStatus.active.value,
        col(Organization.status) == OrganizationStatus.active.value,
    )
    .scalar_subquery(),
)


async def catalogue_generation(session: AsyncSession) -> uuid.UUID:
    """The matchable catalogue's generation now (it changes with every change to it)."""
    return (await session.execute(_GENERATION)).scalar_one()


async def matchable_version_ids(session: AsyncSession) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """The catalogue's generation, and the current version of every active product of an
    active lender, oldest product first, as of that generation."""
    generation, version_ids = (await session.execute(_MATCHABLE_VERSION_IDS)).one()
    return generation, list(version_ids or ())


async def versions_with_lenders(
    session: AsyncSession, version_ids: Collection[uuid.UUID]
) -> Sequence[tuple[ProductVersion, Organization]]:
    """These versions, whatever their product's status now, with the lender."""
    rows = await session.execute(
        select(ProductVersion, Organization)
        .join(Product, col(Product.id) == col(ProductVersion.product_id))
        .join(Organization, col(Organization.id) == col(Product.lender_id))
        .where(col(ProductVersion.id).in_(version_ids))
    )
    return rows.all()
