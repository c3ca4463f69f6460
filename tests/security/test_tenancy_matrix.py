"""Every route × every caller, with the other tenant's ids: nobody reaches what is not theirs.

Generated from /openapi.json (``tests/security/cases.py``): each operation gets its simplest
schema-valid request, its path parameters and id fields filled with side B's ids
(``tests/security/declarations.py``), and is sent as each role of side A (lender staff,
dealer staff, a dealer API key, buyer, advisor), the admin and a stranger. A 2xx on another
tenant's id, one of B's private ids in any answer to A, a protected route answering a
stranger, any 5xx, or an answer the document does not declare fails. A positive control
proves the ids are right: each role reading its own objects gets them.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.security.cases import Operation, minimal_case, operations, request_kwargs, url, walk
from tests.security.declarations import (
    ADMIN_SEES_ALL,
    NOT_IN_THE_WORLD_STATE,
    PRIVATE_KINDS,
    SHARED_PARAMETERS,
    TENANT_IDS,
)
from tests.security.test_fuzzing import validate
from tests.security.world import Side, World, build_world
from tests.stripe_fixtures import LocalStripe

ROLE_OF_PREFIX = {
    "/v1/buyer/": "buyer",
    "/v1/lender/": "lender",
    "/v1/dealer/": "dealer",
    "/v1/advisor/": "advisor",
}


def _fill(operation: Operation, side: Side) -> tuple[dict[str, str], bool]:
    """Path values from ``side`` (tenant ids) or the shared declarations; whether any is a
    tenant's."""
    values, tenant = {}, False
    for name in operation.path_parameters:
        if name in TENANT_IDS:
            values[name] = side.ids[TENANT_IDS[name]]
            tenant = True
        else:
            values[name] = SHARED_PARAMETERS.get(name, str(uuid.uuid4()))
    return values, tenant


def _substitute_body(kwargs: dict[str, Any], side: Side) -> bool:
    body = kwargs.get("json")
    substituted = False
    for mapping, key in walk(body):
        if key in TENANT_IDS and isinstance(mapping[key], str):
            mapping[key] = side.ids[TENANT_IDS[key]]
            substituted = True
    return substituted


def test_every_path_parameter_is_declared(app: FastAPI) -> None:
    """A new route's path parameter must be declared: a tenant id or a shared value."""
    declared = TENANT_IDS.keys() | SHARED_PARAMETERS.keys()
    undeclared = {
        (op.label, name)
        for op in operations(app)
        for name in op.path_parameters
        if name not in declared
    }
    assert not undeclared, f"declare these in tests/security/declarations.py: {undeclared}"


async def test_no_caller_reaches_another_tenants_objects(
    stripe_settings: LocalStripe,  # first: the app is built pointing at the emulator
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
) -> None:
    world: World = await build_world(client, session)
    a, b = world.sides["a"], world.sides["b"]
    foreign_private = {b.ids[kind] for kind in PRIVATE_KINDS if b.ids.get(kind)}
    failures: list[str] = []
    requests = 0
    refused_by_role: dict[str, int] = {}
    for operation in operations(app):
        template = minimal_case(operation)
        for label, headers in world.callers():
            values, tenant_path = _fill(operation, b)
            kwargs = request_kwargs(template, headers)
            kwargs = copy.deepcopy(kwargs)
            tenant_body = _substitute_body(kwargs, b)
            target = url(operation.path, values)
            response = await client.request(operation.method.upper(), target, **kwargs)
            requests += 1
            where = f"{label} {operation.method.upper()} {target} → {response.status_code}"
            ok = response.is_success
            if tenant_path and response.status_code in (403, 404):
                refused_by_role[label] = refused_by_role.get(label, 0) + 1
            admin_reads_all = label == "admin" and operation.path.startswith(ADMIN_SEES_ALL)
            problem = validate(template, response)
            if problem:
                failures.append(f"{where}: not as documented: {problem}")
            if response.status_code >= 500:
                failures.append(f"{where}: server error {response.text[:200]}")
            elif label == "anonymous" and operation.protected and response.status_code != 401:
                failures.append(f"{where}: a stranger was not refused with 401")
            elif ok and (tenant_path or tenant_body) and not admin_reads_all:
                failures.append(f"{where}: succeeded on side B's ids")
            if ok and label != "admin" and any(i in response.text for i in foreign_private):
                failures.append(f"{where}: side B's private id in the answer")
    failures += await _own_objects_are_readable(app, client, world, a)
    assert requests > 300
    # Not vacuous: every role of side A was refused B's objects on some routes.
    assert {label for label, _ in world.callers()} - {"anonymous"} <= refused_by_role.keys()
    assert not failures, "\n".join(failures)


async def _own_objects_are_readable(
    app: FastAPI, client: httpx.AsyncClient, world: World, a: Side
) -> list[str]:
    """The positive control: with its own ids, each role's GETs answer 200 (so the ids the
    matrix substitutes are the right kind and a 404 above means refused, not mistyped)."""
    failures = []
    for operation in operations(app):
        if operation.method != "get" or not operation.path_parameters:
            continue
        if operation.path in NOT_IN_THE_WORLD_STATE:
            continue
        values, tenant = _fill(operation, a)
        if not tenant:
            continue
        role = next((r for p, r in ROLE_OF_PREFIX.items() if operation.path.startswith(p)), None)
        headers = world.admin if role is None else a.callers[role]
        target = url(operation.path, values)
        response = await client.get(target, headers=headers)
        if response.status_code != 200:
            failures.append(f"own {role or 'admin'} GET {target} → {response.status_code}")
    return failures
