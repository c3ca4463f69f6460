"""SQL for the brand catalogue."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.brands.models import Brand, BrandName
from shared.pagination import paginate

# Built once, its keys bound per call as one expanding IN (building it per call cost more CPU
# than sending it).
_BRAND_IDS_FOR_KEYS = select(col(BrandName.key), col(BrandName.brand_id)).where(
    col(BrandName.key).in_(bindparam("b_keys", expanding=True))
)


async def brand_ids_for_keys(session: AsyncSession, keys: Collection[str]) -> dict[str, str]:
    """The brand id each of these name keys leads to (keys no brand has are left out)."""
    if not keys:
        return {}
    rows = await session.execute(_BRAND_IDS_FOR_KEYS, {"b_keys": list(keys)})
    return {key: brand_id for key, brand_id in rows.all()}


async def get_brand(
    session: AsyncSession, brand_id: str, *, for_update: bool = False
) -> Brand | None:
    statement = select(Brand).where(col(Brand.id) == brand_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def brands_by_id(session: AsyncSession, brand_ids: Collection[str]) -> dict[str, Brand]:
    if not brand_ids:
        return {}
    rows = await session.execute(select(Brand).where(col(Brand.id).in_(brand_ids)))
    return {brand.id: brand for brand in rows.scalars()}


async def all_brands(session: AsyncSession) -> Sequence[Brand]:
    return (await session.execute(select(Brand).order_by(col(Brand.id)))).scalars().all()


async def list_brands(
    session: AsyncSession, *, query_key: str | None, limit: int, offset: int
) -> tuple[Sequence[Brand], int]:
    """A page of brands, by id; with ``query_key``, those one of whose names starts with it."""
    statement = select(Brand)
    if query_key:
        names = select(col(BrandName.brand_id)).where(
            or_(col(BrandName.key).startswith(query_key, autoescape=True))
        )
        statement = statement.where(col(Brand.id).in_(names))
    return await paginate(session, statement.order_by(col(Brand.id)), limit=limit, offset=offset)


async def claim_names(session: AsyncSession, brand_id: str, keys: Collection[str]) -> list[str]:
    """Give these name keys to the brand; return the keys another brand already holds.

    One ``INSERT … ON CONFLICT DO NOTHING`` per call: racing edits cannot both take a name.
    """
    if keys:
        await session.execute(
            insert(BrandName)
            .values([{"key": key, "brand_id": brand_id} for key in keys])
            .on_conflict_do_nothing(index_elements=["key"])
        )
    owners = await brand_ids_for_keys(session, keys)
    return sorted(key for key, owner in owners.items() if owner != brand_id)


async def release_names_except(session: AsyncSession, brand_id: str, keep: Collection[str]) -> None:
    """Drop the brand's names that are no longer among ``keep``."""
    await session.execute(
        delete(BrandName).where(
            col(BrandName.brand_id) == brand_id, col(BrandName.key).not_in(list(keep))
        )
    )
