"""The OpenAPI document is complete, and no request a caller can make breaks the service.

Every operation in the document is fuzzed with arbitrary JSON bodies and path parameters, as a
stranger, a buyer and an admin: whatever comes in, the answer is never a 500 and every refusal
uses the one error shape.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import admin_headers, buyer_headers

CONTRACT = {
    ("post", "/v1/calculator"),
    ("post", "/v1/auth/register"),
    ("post", "/v1/auth/token"),
    ("post", "/v1/admin/lenders"),
    ("post", "/v1/admin/dealers"),
    ("post", "/v1/admin/organizations/{organization_id}/members"),
    ("post", "/v1/admin/organizations/{organization_id}/api-keys"),
    ("post", "/v1/admin/advisors"),
    ("post", "/v1/lender/products"),
    ("patch", "/v1/lender/products/{product_id}"),
    ("get", "/v1/lender/products"),
    ("post", "/v1/buyer/applications"),
    ("get", "/v1/buyer/preapprovals/{preapproval_id}"),
    ("post", "/v1/buyer/preapprovals/{preapproval_id}/quotes"),
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
path_values = st.one_of(
    st.uuids().map(str), st.text(alphabet="abcXYZ019-_%", min_size=1, max_size=12)
)


def operations(app: FastAPI) -> list[tuple[str, str]]:
    schema = app.openapi()
    return sorted(
        (method, path)
        for path, item in schema["paths"].items()
        for method in item
        if path != "/v1/stripe/webhook"  # signature-checked; fuzzed in tests/payments
    )


def test_the_openapi_document_lists_every_contract_operation(app: FastAPI) -> None:
    assert set(operations(app)) >= CONTRACT


def test_every_operation_documents_its_answers(app: FastAPI) -> None:
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            assert operation.get("responses"), f"{method} {path} documents no responses"


@pytest.fixture
async def callers(client: httpx.AsyncClient, session: AsyncSession) -> list[dict[str, str]]:
    return [{}, await buyer_headers(client), await admin_headers(client, session)]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_request_makes_the_service_fail(
    app: FastAPI, client: httpx.AsyncClient, callers: list[dict[str, str]], data: st.DataObject
) -> None:
    method, path = data.draw(st.sampled_from(operations(app)), label="operation")
    url = re.sub(r"\{[^}]+\}", lambda _: data.draw(path_values, label="path parameter"), path)
    headers = data.draw(st.sampled_from(callers), label="caller")
    request: dict[str, Any] = {"headers": headers}
    if method in ("post", "put", "patch"):
        request["json"] = data.draw(json_values, label="body")
    response = await client.request(method.upper(), url, **request)
    assert response.status_code < 500, (method, url, response.text)
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str)
