"""The brand catalogue's rules: any name or alias leads to one brand id; unknown names are
refused with the nearest brand suggested; admins add and rename brands without ever letting one
name mean two brands."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.brands import repository
from shared.brands.catalogue import name_key
from shared.brands.exceptions import BrandExists, BrandNameTaken, BrandNotFound, UnknownBrand
from shared.brands.models import Brand
from shared.brands.schemas import BrandCreate, BrandUpdate
from shared.db import utcnow
from shared.identity.principal import Principal
from shared.writes import insert_unique


def names_of(brand: Brand) -> list[str]:
    """Every name that leads to the brand: its id, its two names, aliases and manufacturers."""
    return [brand.id, brand.name_zh, brand.name_en, *brand.aliases, *brand.manufacturers]


def _keys(names: Iterable[str]) -> list[str]:
    return sorted({key for key in map(name_key, names) if key})


async def find(session: AsyncSession, name: str | None) -> str | None:
    """The id of the brand ``name`` leads to (a VIN's manufacturer, say), or None."""
    if not name:
        return None
    return (await repository.brand_ids_for_keys(session, [name_key(name)])).get(name_key(name))


async def resolve(session: AsyncSession, name: str, *, field: str | None = None) -> str:
    """The id of the brand ``name`` (any name or alias) means; 422 ``unknown_brand`` with the
    nearest brand suggested when it means none."""
    return (await resolve_many(session, [name], field=field))[0]


async def resolve_many(
    session: AsyncSession, names: Sequence[str], *, field: str | None = None
) -> list[str]:
    """The brand ids of these names, in order and without repeats (BYD and 比亚迪 are one)."""
    found = await repository.brand_ids_for_keys(session, {name_key(name) for name in names})
    return await _resolved(session, found, names, field)


async def resolve_and_find(
    session: AsyncSession, name: str, other: str | None, *, field: str | None = None
) -> tuple[str, str | None]:
    """``resolve(name)`` and ``find(other)`` in one query: the brand id ``name`` means (422
    ``unknown_brand`` when none), and the one ``other`` leads to, or None."""
    keys = {name_key(name)} | ({name_key(other)} if other else set())
    found = await repository.brand_ids_for_keys(session, keys)
    (brand_id,) = await _resolved(session, found, [name], field)
    return brand_id, found.get(name_key(other)) if other else None


async def _resolved(
    session: AsyncSession, found: dict[str, str], names: Sequence[str], field: str | None
) -> list[str]:
    """The ids ``found`` gives these names, in order and without repeats; 422 for the first
    name it gives none."""
    ids: list[str] = []
    for position, name in enumerate(names):
        brand_id = found.get(name_key(name))
        if brand_id is None:
            where = f"{field}.{position}" if field and len(names) > 1 else field
            raise await _unknown(session, name, where)
        if brand_id not in ids:
            ids.append(brand_id)
    return ids


async def _unknown(session: AsyncSession, name: str, field: str | None) -> UnknownBrand:
    return UnknownBrand(name, field=field, suggestion=await _suggestion(session, name))


async def _suggestion(session: AsyncSession, name: str) -> dict[str, str] | None:
    """The brand whose name is nearest to ``name``, if any is near enough to be a typo."""
    owners: dict[str, Brand] = {}
    for brand in await repository.all_brands(session):
        for key in _keys(names_of(brand)):
            owners.setdefault(key, brand)
    wanted = name_key(name)
    near = difflib.get_close_matches(wanted, list(owners), n=1, cutoff=0.6)
    if not near:
        # "BYD汽车" or "宝马X5": a name that contains a brand's name is a strong hint too.
        near = sorted((key for key in owners if len(key) >= 2 and key in wanted), key=len)[-1:]
    if not near:
        return None
    brand = owners[near[0]]
    return {"id": brand.id, "name_zh": brand.name_zh, "name_en": brand.name_en}


async def by_id(session: AsyncSession, brand_ids: Sequence[str]) -> dict[str, Brand]:
    return await repository.brands_by_id(session, set(brand_ids))


async def get(session: AsyncSession, brand_id: str) -> Brand:
    brand = await repository.get_brand(session, brand_id)
    if brand is None:
        raise BrandNotFound()
    return brand


async def _claim(session: AsyncSession, brand: Brand) -> None:
    keys = _keys(names_of(brand))
    taken = await repository.claim_names(session, brand.id, keys)
    if taken:
        raise BrandNameTaken(taken[0])
    await repository.release_names_except(session, brand.id, keys)


async def create(session: AsyncSession, admin: Principal, body: BrandCreate) -> Brand:
    """Add a brand; 409 when its id exists or one of its names is another brand's."""
    brand = Brand(**body.model_dump())
    if not await insert_unique(session, brand):
        raise BrandExists(field="id")
    await _claim(session, brand)
    audit.record(
        session,
        actor=admin,
        action="brand.created",
        subject_type="brand",
        subject_id=brand.id,
        after=body.model_dump(),
    )
    return brand


async def update(
    session: AsyncSession, admin: Principal, brand_id: str, body: BrandUpdate
) -> Brand:
    """Rename a brand or change its aliases; its id, stored everywhere, never changes."""
    brand = await repository.get_brand(session, brand_id, for_update=True)
    if brand is None:
        raise BrandNotFound()
    before = {
        name: getattr(brand, name) for name in ("name_zh", "name_en", "aliases", "manufacturers")
    }
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        setattr(brand, name, value)
    brand.updated_at = utcnow()
    await session.flush()
    await _claim(session, brand)
    audit.record(
        session,
        actor=admin,
        action="brand.updated",
        subject_type="brand",
        subject_id=brand.id,
        before=before,
        after=changes,
    )
    return brand


async def brands(
    session: AsyncSession, query: str | None, *, limit: int, offset: int
) -> tuple[Sequence[Brand], int]:
    """A page of brands, by id; with ``query``, those one of whose names or aliases starts so."""
    query_key = name_key(query) if query else None
    return await repository.list_brands(session, query_key=query_key, limit=limit, offset=offset)
