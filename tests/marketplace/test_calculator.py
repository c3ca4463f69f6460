"""The public loan calculator: the pricing engine's quote over HTTP, and nothing else."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing import quote_loan
from tests.factories import error_fields


@pytest.mark.parametrize(
    ("principal", "annual_rate", "term_months", "method", "upfront_fee"),
    [
        (15_000_000, "0.0599", 36, "equal_installment", 0),
        (15_000_000, "0.0599", 36, "equal_principal", 150_000),
        (1, "0", 1, "equal_installment", 0),
        (1_000_000_000, "0.36", 84, "equal_principal", 999_999_999),
    ],
)
async def test_the_calculator_answers_what_the_pricing_engine_quotes(
    client: httpx.AsyncClient,
    principal: int,
    annual_rate: str,
    term_months: int,
    method: str,
    upfront_fee: int,
) -> None:
    body = {
        "principal": principal,
        "annual_rate": annual_rate,
        "term_months": term_months,
        "method": method,
        "upfront_fee": upfront_fee,
    }
    response = await client.post("/v1/calculator", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    quote = quote_loan(principal, Decimal(annual_rate), term_months, method, upfront_fee)
    assert answer["monthly_payment"] == quote.monthly_payment == quote.schedule[0].payment
    assert answer["total_interest"] == quote.total_interest
    assert answer["total_cost"] == quote.total_cost
    assert Decimal(answer["apr"]) == quote.apr
    assert Decimal(answer["effective_annual_rate"]) == quote.effective_annual_rate
    assert answer["schedule"] == [
        {
            "n": r.n,
            "payment": r.payment,
            "principal": r.principal,
            "interest": r.interest,
            "balance": r.balance,
        }
        for r in quote.schedule
    ]


async def test_rates_may_be_sent_as_numbers_and_the_fee_is_optional(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/calculator", json={"principal": 10_000_000, "annual_rate": 0.05, "term_months": 12}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["method"] == "equal_installment"
    assert answer["upfront_fee"] == 0
    assert Decimal(answer["apr"]) == quote_loan(10_000_000, Decimal("0.05"), 12).apr
    assert isinstance(answer["apr"], str)  # rates travel as decimal strings, never floats


async def test_a_fee_raises_the_apr_above_the_nominal_rate(client: httpx.AsyncClient) -> None:
    body = {"principal": 10_000_000, "annual_rate": "0.06", "term_months": 24}
    without_fee = (await client.post("/v1/calculator", json=body)).json()
    with_fee = (await client.post("/v1/calculator", json=body | {"upfront_fee": 200_000})).json()
    # Without a fee the APR is the nominal rate, up to the rounding of each payment to the fen.
    assert abs(Decimal(without_fee["apr"]) - Decimal("0.06")) < Decimal("0.000001")
    assert Decimal(with_fee["apr"]) > Decimal("0.07")
    assert with_fee["total_cost"] == without_fee["total_interest"] + 200_000


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("principal", 0),
        ("principal", -100),
        ("principal", 1_000_000_001),
        ("principal", 100.5),
        ("principal", True),
        ("principal", "1000"),
        ("term_months", 0),
        ("term_months", 85),
        ("term_months", 12.5),
        ("annual_rate", "-0.01"),
        ("annual_rate", "0.3601"),
        ("annual_rate", "NaN"),
        ("annual_rate", "Infinity"),
        ("annual_rate", "-inf"),
        ("annual_rate", "five percent"),
        ("annual_rate", True),
        ("annual_rate", None),
        ("method", "balloon"),
        ("upfront_fee", -1),
        ("upfront_fee", 0.5),
        ("upfront_fee", 1_000_000),
        ("upfront_fee", 1_000_001),
    ],
)
async def test_invalid_loan_terms_are_refused_naming_the_field(
    client: httpx.AsyncClient, field: str, value: Any
) -> None:
    body = {"principal": 1_000_000, "annual_rate": "0.05", "term_months": 12} | {field: value}
    response = await client.post("/v1/calculator", json=body)
    assert response.status_code == 422, response.text
    assert error_fields(response) == {field}


async def test_unknown_fields_are_refused(client: httpx.AsyncClient) -> None:
    body = {"principal": 1_000_000, "annual_rate": "0.05", "term_months": 12, "grade": "A1"}
    response = await client.post("/v1/calculator", json=body)
    assert response.status_code == 422
    assert error_fields(response) == {"grade"}


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(
        ["NaN", "Infinity", "-1e999", "1e-999999", "0.0000000001", "equal_principal"]
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=5,
)
plausible_rates = st.decimals(min_value=-1, max_value=1, allow_nan=False).map(str)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the client is stateless here
)
@given(
    principal=json_values | st.integers(-10, 1_000_000_010),
    annual_rate=json_values | plausible_rates,
    term_months=json_values | st.integers(-1, 90),
    method=json_values | st.sampled_from(["equal_installment", "equal_principal"]),
    upfront_fee=json_values | st.integers(-10, 1_000_000_010),
    left_out=st.sets(st.sampled_from(["annual_rate", "method", "upfront_fee"])),
)
async def test_garbage_never_makes_the_calculator_fail(
    client: httpx.AsyncClient,
    principal: Any,
    annual_rate: Any,
    term_months: Any,
    method: Any,
    upfront_fee: Any,
    left_out: set[str],
) -> None:
    body = {
        "principal": principal,
        "annual_rate": annual_rate,
        "term_months": term_months,
        "method": method,
        "upfront_fee": upfront_fee,
    }
    for name in left_out:
        del body[name]
    response = await client.post("/v1/calculator", json=body)
    assert response.status_code in (200, 422), response.text
    assert "error" in response.json() or response.json()["schedule"]
