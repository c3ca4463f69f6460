"""Statements that write rows the way the hot paths need: one statement where the ORM's unit
of work would send several, and writes sent inside another statement.

- ``insert_unique`` (and ``insert_unique_reading``): ``INSERT … ON CONFLICT DO NOTHING`` for a
  new row, False when a unique constraint already holds it.
- ``Write``: an INSERT built once with named parameters and one call's values, sent as a CTE of
  another statement (``with_writes``, ``send``): ``insert_of`` for an ORM row (then ``adopt``
  it), ``rows_insert`` for several rows (an approval's offers, a transaction's audit entries).
- ``batches``: multi-row statements over a whole book, cut to PostgreSQL's parameter limit.

Every statement here is built once and cached by SQLAlchemy like any other: a multi-row
``VALUES`` cannot be (``insert_rows``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, TypeVar

from sqlalchemy import Column, Insert, Row, Table, bindparam, insert, inspect, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import HasCTE, ScalarSelect
from sqlmodel import SQLModel

from shared.db import table_of

# PostgreSQL's protocol carries at most this many parameters in one statement (asyncpg refuses
# more before sending): a multi-row INSERT over a whole book must be cut into batches.
MAX_PARAMETERS = 32_767
_Row = TypeVar("_Row")
_T = TypeVar("_T")


def batches(rows: Sequence[_Row], *, parameters_per_row: int) -> Iterator[Sequence[_Row]]:
    """``rows`` in order, in slices that one multi-row statement binding ``parameters_per_row``
    values for each row can carry. Order is kept, so writers that sort their rows (to take
    row locks in one order) still do across batches."""
    size = max(1, MAX_PARAMETERS // parameters_per_row)
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def insert_unique(session: AsyncSession, row: SQLModel) -> bool:
    """Insert a new row; False (and nothing written) when a unique constraint already holds it.

    One statement, ``INSERT … ON CONFLICT DO NOTHING``, rather than a savepoint around an insert
    (three round trips). On success ``row`` belongs to the session as if it had been added and
    flushed; it must carry every value itself (ids and timestamps are made in Python here)."""
    return await _insert_unique(session, row, ()) is not None


async def insert_unique_reading(
    session: AsyncSession, row: SQLModel, reading: ScalarSelect[_T]
) -> tuple[_T] | None:
    """``insert_unique`` that also reads ``reading`` (a scalar subquery built once) in the same
    statement and snapshot, a round trip the caller would otherwise spend: None when refused,
    else what was read."""
    inserted = await _insert_unique(session, row, (reading,))
    return None if inserted is None else (inserted[-1],)


def insert_of(row: SQLModel, *, prefix: str) -> Write:
    """``row`` as an INSERT of every column, its parameters named ``{prefix}_{column}``, for the
    caller to send within another statement (``with_writes``) and then ``adopt``. Like
    ``insert_unique``, the row carries every value itself."""
    parameters: dict[str, Any] = {}
    for key, column in _column_of_attribute(type(row)).items():
        value = getattr(row, key)
        if value is None and not column.nullable:
            raise ValueError(f"{type(row).__name__}.{key} is required")
        parameters[f"{prefix}_{column.key}"] = value
    return Write(_insert_of_statement(type(row), prefix), parameters)


def rows_insert(
    table: Table, columns: tuple[str, ...], rows: Sequence[Mapping[str, Any]], *, prefix: str
) -> Write:
    """These rows (at least one) as one INSERT of ``columns``, for the caller to send within
    another statement (``with_writes``, ``send``): row ``i``'s values are the parameters
    ``{prefix}{i}_{column}``, and the statement is built once per table, columns and count."""
    if not rows:
        raise ValueError(f"an INSERT of no {table.name} rows")
    return Write(
        _rows_insert_statement(table, columns, len(rows), prefix),
        {f"{prefix}{i}_{column}": row[column] for i, row in enumerate(rows) for column in columns},
    )


@lru_cache(maxsize=256)  # a few tables, by how many rows (an approval's offers: up to 60)
def _rows_insert_statement(
    table: Table, columns: tuple[str, ...], count: int, prefix: str
) -> Insert:
    def row(i: int) -> dict[str, Any]:
        return {
            column: bindparam(f"{prefix}{i}_{column}", type_=table.c[column].type)
            for column in columns
        }

    return insert_rows(table, [row(i) for i in range(count)])


def insert_rows(table: Table, rows: Sequence[Mapping[str, Any]]) -> Insert:
    """An INSERT of these rows (each a column → expression mapping, the same columns in each),
    as ``INSERT … SELECT … UNION ALL SELECT …``: SQLAlchemy compiles a multi-row ``VALUES``
    (``insert().values([...])``) again on every execution, as it cannot cache it, which cost
    more than the round trip it saved."""
    if len(rows) == 1:
        return insert(table).values(dict(rows[0]))
    columns = list(rows[0])
    selects = [select(*(row[column] for column in columns)) for row in rows]
    return insert(table).from_select(columns, union_all(*selects))


async def send(session: AsyncSession, first: Write, *more: Write) -> None:
    """Send these writes as one statement: the first, with the others as its CTEs."""
    statement, parameters = with_writes(first.statement, first.parameters, more)
    await session.execute(statement, parameters)


def adopt(session: AsyncSession, row: SQLModel) -> None:
    """``row``, just inserted by a statement of the caller's, belongs to the session as if it
    had been added and flushed (later changes to it are flushed as an UPDATE)."""
    make_transient_to_detached(row)
    session.add(row)


async def _insert_unique(
    session: AsyncSession, row: SQLModel, reading: tuple[ScalarSelect[Any], ...]
) -> Row[Any] | None:
    values: dict[str, Any] = {}
    for key, column in _column_of_attribute(type(row)).items():
        value = getattr(row, key)
        if value is None and column.server_default is not None:
            continue  # let the database fill it in
        values[column.key] = value
    inserted = (await session.execute(_insert_unique_statement(type(row), reading), values)).first()
    if inserted is None:
        return None
    adopt(session, row)
    return inserted


@dataclass(frozen=True)
class Write:
    """An INSERT built once with named parameters, and one call's values for them: sent as a CTE
    of another statement (``with_writes``), so what it records costs neither a round trip nor a
    statement built per call. Its parameter names are its own (prefixed), never another's."""

    statement: Insert
    parameters: Mapping[str, Any]


_Statement = TypeVar("_Statement", bound=HasCTE)


def with_writes(
    statement: _Statement, parameters: Mapping[str, Any], writes: Sequence[Write]
) -> tuple[_Statement, dict[str, Any]]:
    """``statement`` carrying ``writes`` as CTEs — each combination built once — and the
    parameters of all of them."""
    merged = dict(parameters)
    for write in writes:
        if merged.keys() & write.parameters.keys():
            raise ValueError(f"parameter names shared: {sorted(merged.keys() & write.parameters)}")
        merged.update(write.parameters)
    if not writes:
        return statement, merged
    return _with_ctes(statement, tuple(write.statement for write in writes)), merged


# Keyed by the statements themselves: module constants, and multi-row INSERTs by their count.
@lru_cache(maxsize=512)
def _with_ctes(statement: _Statement, inserts: tuple[Insert, ...]) -> _Statement:
    return statement.add_cte(*(insert.cte() for insert in inserts))


@cache
def _column_of_attribute(model: type[SQLModel]) -> dict[str, Column[Any]]:
    return {attribute.key: attribute.columns[0] for attribute in inspect(model).mapper.column_attrs}


@cache
def _insert_unique_statement(
    model: type[SQLModel], reading: tuple[ScalarSelect[Any], ...]
) -> Executable:
    """``insert_unique``'s statement for one model (and what it reads), built once: its columns
    come from each call's parameters (building the INSERT per row cost a confirm 1/10 of its
    CPU)."""
    table = table_of(model)
    return pg_insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns, *reading)


@cache
def _insert_of_statement(model: type[SQLModel], prefix: str) -> Insert:
    """``insert_of``'s statement for one model, built once."""
    table = table_of(model)
    return insert(table).values(
        {
            column.key: bindparam(f"{prefix}_{column.key}", type_=column.type)
            for column in table.columns
        }
    )
