"""Paginated lists: every list endpoint takes ``limit``/``offset`` and answers a page."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
# Bounded so no integer reaches PostgreSQL out of its range (2^63 was a 500); deeper than any
# list a person pages through.
MAX_OFFSET = 1_000_000


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


async def paginate(
    session: AsyncSession, statement: Select[*tuple[Any, ...]], *, limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of an ordered ``statement`` and the total it would return, in one round trip.

    The total rides beside each row (``count(*) OVER ()``, computed before LIMIT); only a page
    past the end, which has no row to carry it, costs a second query. Items are the selected
    entity when the statement selects one, else tuples of what it selects.
    """
    total_column = func.count().over().label("page_total")
    rows = (
        await session.execute(statement.add_columns(total_column).limit(limit).offset(offset))
    ).all()
    if not rows:
        if offset == 0:
            return [], 0
        counted = select(func.count()).select_from(statement.order_by(None).subquery())
        return [], int((await session.execute(counted)).scalar_one())
    width = len(rows[0]) - 1
    items = [row[0] if width == 1 else tuple(row[:width]) for row in rows]
    return items, int(rows[0][width])
