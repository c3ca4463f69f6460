"""schemathesis over every operation in /openapi.json, as every role: no 5xx, and every answer
— status, content type, headers, body — is one the document declares.

Each operation gets ``OWNER_EXAMPLES`` generated requests (valid ones and deliberately
invalid ones) as the role its path belongs to, and one as a stranger; the tenancy matrix
(``test_tenancy_matrix.py``) sends each operation as every other role and checks those answers
against the document the same way (``validate``). Bounded: about 270 requests in-process.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from sqlalchemy.ext.asyncio import AsyncSession

from tests.security.cases import cases, operations, request_kwargs
from tests.security.world import build_world
from tests.stripe_fixtures import LocalStripe

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
OWNER_EXAMPLES = {"positive": 2, "negative": 1}
OWNER_OF_PREFIX = {
    "/v1/buyer/": "buyer:a",
    "/v1/lender/": "lender:a",
    "/v1/dealer/": "dealer:a",
    "/v1/advisor/": "advisor:a",
    "/v1/admin/": "admin",
}


def validate(case: Any, response: httpx.Response) -> str | None:
    try:
        case.validate_response(response, checks=CHECKS)
    except (AssertionError, FailureGroup) as failure:
        return str(failure)[:600]
    return None


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
async def test_no_generated_request_breaks_the_service_or_the_document(
    stripe_settings: LocalStripe,
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
) -> None:
    world = await build_world(client, session)
    callers = dict(world.callers())
    failures: list[str] = []
    sent = 0
    for operation in operations(app):
        owner = next(
            (who for prefix, who in OWNER_OF_PREFIX.items() if operation.path.startswith(prefix)),
            "buyer:a" if operation.protected else "anonymous",
        )
        plan = [
            (owner, case)
            for mode, n in OWNER_EXAMPLES.items()
            for case in cases(operation, n, mode)
        ]
        if owner != "anonymous":
            plan.append(("anonymous", cases(operation, 1)[0]))
        for label, case in plan:
            path = case.formatted_path
            response = await client.request(
                operation.method.upper(), path, **request_kwargs(case, callers[label])
            )
            sent += 1
            problem = validate(case, response)
            if problem:
                failures.append(
                    f"{label} {operation.label} {path} → {response.status_code}: {problem}"
                )
    assert sent > 200
    assert not failures, "\n\n".join(failures[:25]) + f"\n\n({len(failures)} in all)"
