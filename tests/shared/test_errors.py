"""Every error, whatever its cause, answers in one JSON shape with the right status."""

from __future__ import annotations

import httpx
from fastapi import FastAPI


async def test_unknown_route_answers_404_in_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_wrong_method_answers_405_in_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_malformed_json_answers_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/register", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


async def test_validation_error_names_the_field_without_echoing_the_input(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/auth/register",
        json={
            "email": "a@b.cn",
            "password": "secret-password-1",
            "full_name": "王五",
            "phone": "12",
            "sms_code": "123456",
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [f["field"] for f in error["fields"]] == ["phone"]
    assert "secret-password-1" not in response.text


async def test_unknown_fields_in_a_body_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/register",
        json={
            "email": "a@b.cn",
            "password": "long-enough-pw",
            "full_name": "王五",
            "phone": "13900001111",
            "sms_code": "123456",
            "kind": "admin",
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "kind"


async def test_an_unhandled_exception_answers_500_with_a_request_id_and_no_trace(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def explode() -> None:
        raise RuntimeError("database password is hunter2")

    app.add_api_route("/explode", explode)
    response = await client.get("/explode")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert error["request_id"] == response.headers["x-request-id"]
    assert "hunter2" not in response.text and "Traceback" not in response.text
