"""``with_writes``: INSERTs sent as CTEs of another statement are combined with it once, and
two writes can never bind each other's parameters."""

from __future__ import annotations

import uuid

import pytest

from marketplace.applications.models import BureauReport
from marketplace.applications.repository import _INSERT_CONSENTS
from marketplace.preapprovals.repository import lookup_insert
from shared import audit
from shared.audit import repository as audit_repository
from shared.ratelimit.repository import _RELEASE
from shared.writes import Write, insert_of, with_writes


def _entry() -> Write:
    return audit.insert(
        audit.entry(
            actor="system", action="test.done", subject_type="test", subject_id=uuid.uuid4()
        )
    )


def test_each_combination_is_built_once_and_carries_every_parameter() -> None:
    first, first_parameters = with_writes(
        _RELEASE, {"keys": ["a"]}, [lookup_insert(uuid.uuid4(), uuid.uuid4()), _entry()]
    )
    again, _ = with_writes(
        _RELEASE, {"keys": ["b"]}, [lookup_insert(uuid.uuid4(), uuid.uuid4()), _entry()]
    )
    assert first is again  # the same statements: one combination, its cache key computed once
    assert {"keys", "lookup_id", "audit0_action", "audit0_subject_id"} <= first_parameters.keys()
    alone, parameters = with_writes(_RELEASE, {"keys": ["c"]}, [])
    assert alone is _RELEASE and parameters == {"keys": ["c"]}


def test_two_writes_that_would_bind_the_same_names_are_refused() -> None:
    with pytest.raises(ValueError, match="audit0_action"):
        with_writes(_RELEASE, {"keys": ["a"]}, [_entry(), _entry()])


def test_a_row_goes_within_another_statement_only_with_every_required_value() -> None:
    """``insert_of``: one statement per model and prefix, every column a named parameter; a row
    missing a required value is refused before anything is sent."""
    report = BureauReport(person_hash="h" * 64, source="test", facts={})
    write = insert_of(report, prefix="r")
    assert (
        write.statement
        is insert_of(BureauReport(person_hash="x", source="t", facts={}), prefix="r").statement
    )
    assert write.parameters["r_person_hash"] == "h" * 64
    assert write.parameters["r_id"] == report.id
    with pytest.raises(ValueError, match="person_hash"):
        insert_of(BureauReport(source="test", facts={}), prefix="r")


def test_multi_row_writes_are_statements_sqlalchemy_can_cache() -> None:
    """SQLAlchemy cannot cache a multi-row ``VALUES`` (it has no cache key) and compiles it on
    every execution, which cost more than the round trip it saved: multi-row writes are
    ``INSERT … SELECT … UNION ALL`` (``insert_rows``), cached once per row count."""
    entry = audit.entry(actor="system", action="test.done", subject_type="test", subject_id="1")
    for count in (1, 2, 5):
        write = audit_repository.insert([entry] * count)
        assert write.statement._generate_cache_key() is not None
        assert write.statement is audit_repository.insert([entry] * count).statement
    assert _INSERT_CONSENTS._generate_cache_key() is not None
    row = BureauReport(person_hash="h", source="test", facts={})
    assert insert_of(row, prefix="r").statement._generate_cache_key() is not None
