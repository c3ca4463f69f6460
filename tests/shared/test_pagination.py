"""``paginate``: one page and the total in one round trip, and past the end still the total."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.brands.models import Brand
from shared.pagination import paginate


async def test_a_page_carries_the_total_of_the_whole_statement(session: AsyncSession) -> None:
    total = (await session.execute(select(func.count()).select_from(Brand))).scalar_one()
    ordered = select(Brand).order_by(col(Brand.id))
    every_id = list(
        (await session.execute(select(col(Brand.id)).order_by(col(Brand.id)))).scalars()
    )
    assert total > 5

    first, counted = await paginate(session, ordered, limit=3, offset=0)
    second, _ = await paginate(session, ordered, limit=3, offset=3)

    assert counted == total
    assert [b.id for b in first] == every_id[:3] and [b.id for b in second] == every_id[3:6]


async def test_past_the_end_the_page_is_empty_and_the_total_still_right(
    session: AsyncSession,
) -> None:
    total = (await session.execute(select(func.count()).select_from(Brand))).scalar_one()

    items, counted = await paginate(
        session, select(Brand).order_by(col(Brand.id)), limit=10, offset=total + 5
    )

    assert items == [] and counted == total


async def test_a_statement_of_two_things_pages_tuples_and_a_filter_counts_only_matches(
    session: AsyncSession,
) -> None:
    statement = (
        select(Brand, col(Brand.name_en)).where(col(Brand.id) == "byd").order_by(col(Brand.id))
    )

    items, counted = await paginate(session, statement, limit=5, offset=0)
    none, zero = await paginate(
        session, select(Brand).where(col(Brand.id) == "no-such-brand"), limit=5, offset=0
    )

    assert counted == 1 and len(items) == 1
    brand, name_en = items[0]
    assert brand.id == "byd" and name_en == brand.name_en
    assert none == [] and zero == 0
