"""``with_writes``: INSERTs sent as CTEs of another statement are combined with it once, and
two writes can never bind each other's parameters."""

from __future__ import annotations

import uuid

import pytest

from marketplace.preapprovals.repository import lookup_insert
from shared import audit
from shared.db import Write, with_writes
from shared.ratelimit.repository import _RELEASE


def _entry() -> Write:
    return audit.insert(
        actor="system", action="test.done", subject_type="test", subject_id=uuid.uuid4()
    )


def test_each_combination_is_built_once_and_carries_every_parameter() -> None:
    first, first_parameters = with_writes(
        _RELEASE, {"keys": ["a"]}, [lookup_insert(uuid.uuid4(), uuid.uuid4()), _entry()]
    )
    again, _ = with_writes(
        _RELEASE, {"keys": ["b"]}, [lookup_insert(uuid.uuid4(), uuid.uuid4()), _entry()]
    )
    assert first is again  # the same statements: one combination, its cache key computed once
    assert {"keys", "lookup_id", "audit_action", "audit_subject_id"} <= first_parameters.keys()
    alone, parameters = with_writes(_RELEASE, {"keys": ["c"]}, [])
    assert alone is _RELEASE and parameters == {"keys": ["c"]}


def test_two_writes_that_would_bind_the_same_names_are_refused() -> None:
    with pytest.raises(ValueError, match="audit_action"):
        with_writes(_RELEASE, {"keys": ["a"]}, [_entry(), _entry()])
