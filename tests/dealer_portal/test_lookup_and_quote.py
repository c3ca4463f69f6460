"""Dealer staff look an approval up and quote a real car on it; refusals say which rule failed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.models import DealerDeal
from dealer_portal.service import LOOKUP_FAILURES_PER_DEALER_AND_CODE
from dealer_portal.vin import normalize_vin
from marketplace.preapprovals.models import Preapproval, PreapprovalLookup
from shared.audit import AuditEntry
from shared.db import Database, utcnow
from tests.dealer_portal.conftest import (
    PHONE,
    VALID_VIN,
    approved_buyer,
    committed_admin,
    deal_body,
    new_dealer,
    quoted_deal,
)


async def test_a_lookup_shows_the_masked_name_and_offers_and_alerts_the_advisor(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)

    response = await client.post(
        "/v1/dealer/lookups",
        json={"code": approved.code.lower(), "verifier": PHONE[-4:]},
        headers=approved.dealer,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["buyer_name_masked"] == "张*"
    assert body["preapproval_id"] == approved.preapproval["id"]
    assert body["credit_limit"] == approved.credit_limit
    assert body["status"] == "active" and body["grade"] == approved.preapproval["grade"]
    assert [o["offer_id"] for o in body["offers"]] == [
        o["offer_id"] for o in approved.preapproval["offers"]
    ]
    text = response.text
    for personal in ("张三", PHONE, "monthly_income", "national_id", "bureau", "income"):
        assert personal not in text
    lookups = await session.execute(
        select(PreapprovalLookup).where(
            col(PreapprovalLookup.preapproval_id) == approved.preapproval["id"]
        )
    )
    assert [str(row.dealer_id) for row in lookups.scalars()] == [approved.dealer_id]
    audited = await session.execute(
        select(AuditEntry).where(
            col(AuditEntry.action) == "preapproval.looked_up",
            col(AuditEntry.subject_id) == approved.preapproval["id"],
        )
    )
    (entry,) = audited.scalars()
    # Written within the look-up's statement, with every fact an entry recorded alone has.
    assert entry.after == {"dealer_id": approved.dealer_id}
    assert entry.before is None
    assert entry.actor.startswith("user:") and entry.request_id  # the staff member
    assert entry.occurred_at is not None


async def test_a_wrong_verifier_looks_exactly_like_an_unknown_code(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)

    wrong = await client.post(
        "/v1/dealer/lookups",
        json={"code": approved.code, "verifier": "0000"},
        headers=approved.dealer,
    )
    unknown = await client.post(
        "/v1/dealer/lookups", json={"code": "ZZZZ2222", "verifier": "5678"}, headers=approved.dealer
    )

    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "approval_not_found"


async def test_successful_lookups_count_nothing_against_the_throttle(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    right = {"code": approved.code, "verifier": PHONE[-4:]}

    statuses = [
        (await client.post("/v1/dealer/lookups", json=right, headers=approved.dealer)).status_code
        for _ in range(LOOKUP_FAILURES_PER_DEALER_AND_CODE + 1)
    ]
    wrong = [
        (
            await client.post(
                "/v1/dealer/lookups", json=right | {"verifier": "0000"}, headers=approved.dealer
            )
        ).status_code
        for _ in range(LOOKUP_FAILURES_PER_DEALER_AND_CODE)
    ]

    assert statuses == [200] * (LOOKUP_FAILURES_PER_DEALER_AND_CODE + 1)
    assert wrong == [404] * LOOKUP_FAILURES_PER_DEALER_AND_CODE  # every failure still allowed


async def test_repeated_failed_lookups_are_throttled_even_for_the_right_verifier(
    committed_client: httpx.AsyncClient, committed_database: Database
) -> None:
    admin = await committed_admin(committed_client, committed_database)
    approved = await approved_buyer(committed_client, admin)
    attempt = {"code": approved.code, "verifier": "0000"}

    statuses = [
        (
            await committed_client.post("/v1/dealer/lookups", json=attempt, headers=approved.dealer)
        ).status_code
        for _ in range(5)
    ]
    right = await committed_client.post(
        "/v1/dealer/lookups",
        json={"code": approved.code, "verifier": PHONE[-4:]},
        headers=approved.dealer,
    )
    _, other_dealer = await new_dealer(committed_client, admin)
    elsewhere = await committed_client.post(
        "/v1/dealer/lookups",
        json={"code": approved.code, "verifier": PHONE[-4:]},
        headers=other_dealer,
    )

    assert statuses == [404] * 5
    assert right.status_code == 429 and right.headers["Retry-After"] == "900"
    # One dealer's guesses lock the code for that dealer only (finding 4 of issue #15).
    assert elsewhere.status_code == 200, elsewhere.text


async def test_a_code_is_locked_for_every_dealer_only_after_many_dealers_failed(
    committed_client: httpx.AsyncClient, committed_database: Database
) -> None:
    """Per code across dealers the limit is 20 failures: four dealers guessing five times each
    lock it for a fifth (issue #15, finding 4)."""
    admin = await committed_admin(committed_client, committed_database)
    approved = await approved_buyer(committed_client, admin)
    wrong = {"code": approved.code, "verifier": "0000"}
    right = {"code": approved.code, "verifier": PHONE[-4:]}
    for _ in range(4):
        _, guesser = await new_dealer(committed_client, admin)
        for _ in range(5):
            refused = await committed_client.post("/v1/dealer/lookups", json=wrong, headers=guesser)
            assert refused.status_code == 404, refused.text
    _, fifth = await new_dealer(committed_client, admin)
    locked = await committed_client.post("/v1/dealer/lookups", json=right, headers=fifth)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


async def test_concurrent_guesses_cannot_slip_past_the_throttle(
    committed_client: httpx.AsyncClient, committed_database: Database
) -> None:
    """Thirty wrong verifiers at once: only the first five are even compared."""
    admin = await committed_admin(committed_client, committed_database)
    approved = await approved_buyer(committed_client, admin)
    guesses = [{"code": approved.code, "verifier": f"{n:04d}"} for n in range(30) if n != 5678]
    answers = await asyncio.gather(
        *(
            committed_client.post("/v1/dealer/lookups", json=g, headers=approved.dealer)
            for g in guesses
        )
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(404) == 5 and statuses.count(429) == len(guesses) - 5


async def test_a_dealer_with_many_failures_is_throttled_on_every_code(
    committed_client: httpx.AsyncClient, committed_database: Database
) -> None:
    admin = await committed_admin(committed_client, committed_database)
    approved = await approved_buyer(committed_client, admin)
    for n in range(10):
        missing = await committed_client.post(
            "/v1/dealer/lookups",
            json={"code": f"ZZZZ{n:04d}".replace("0", "2").replace("1", "3"), "verifier": "1111"},
            headers=approved.dealer,
        )
        assert missing.status_code == 404

    right = await committed_client.post(
        "/v1/dealer/lookups",
        json={"code": approved.code, "verifier": PHONE[-4:]},
        headers=approved.dealer,
    )
    assert right.status_code == 429


@pytest.mark.parametrize(
    "vin", ["1M8GDM9AXKP042788", "LSVAM4187C2184847", "LFV2A21KX67300218", "lsvam4187c2184847"]
)
def test_real_vins_pass_the_iso_3779_check_digit(vin: str) -> None:
    assert normalize_vin(vin) == vin.upper()


async def test_a_bad_vin_is_refused_naming_the_field(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    for vin in (
        "LSVAM4186C2184847",  # wrong check digit
        "LSVAM4187C218484",  # 16 characters
        "LSVAM4187C218484O",  # the letter O
        "ISVAM4187C2184847",  # the letter I
    ):
        response = await client.post(
            "/v1/dealer/deals", json=deal_body(approved, vin=vin), headers=approved.dealer
        )
        assert response.status_code == 422, vin
        assert {f["field"] for f in response.json()["error"]["fields"]} == {"vehicle.vin"}


async def test_a_quote_gives_the_locked_offer_terms_and_schedule_without_locking_the_approval(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    offer = approved.preapproval["offers"][0]

    response = await client.post(
        "/v1/dealer/deals", json=deal_body(approved, vin=VALID_VIN), headers=approved.dealer
    )

    assert response.status_code == 201, response.text
    deal = response.json()
    quote = deal["quote"]
    assert deal["status"] == "quoted" and deal["buyer_name_masked"] == "张*"
    assert quote["amount"] == 10_000_000 and quote["term_months"] == 36
    assert quote["lender"] == offer["lender"]
    # The pre-approval assumed the worst structure; a new car over 36 months earns its own
    # grade, and the rate of that grade, never above the locked offer's.
    car = quote["car_grade"]
    assert car["preapproval_grade"] == approved.preapproval["grade"]
    assert quote["grade"] == car["grade"]
    assert (
        car["summary"] == f"this car: {car['grade']}; your pre-approval: {car['preapproval_grade']}"
    )
    assert Decimal(quote["annual_rate"]) <= Decimal(offer["annual_rate"])
    assert sum(row["principal"] for row in quote["schedule"]) == 10_000_000
    assert quote["monthly_payment"] == quote["schedule"][0]["payment"]
    assert quote["total_cost"] == quote["total_interest"] + quote["upfront_fee"]
    assert deal["vehicle"]["vin"] == "LSVAM4187C2184847"
    # The deal and its audit entry went in together (one statement), as answered.
    stored = await session.get(DealerDeal, uuid.UUID(deal["id"]))
    assert stored is not None and stored.status == "quoted"
    assert (stored.principal, stored.annual_rate) == (10_000_000, Decimal(quote["annual_rate"]))
    [entry] = (
        await session.execute(
            select(AuditEntry).where(
                col(AuditEntry.action) == "deal.quoted", col(AuditEntry.subject_id) == deal["id"]
            )
        )
    ).scalars()
    assert entry.after is not None and entry.after["principal"] == 10_000_000
    assert entry.after["preapproval_id"] == approved.preapproval["id"]
    preapproval = await client.get(
        f"/v1/buyer/preapprovals/{approved.preapproval['id']}", headers=approved.buyer
    )
    assert preapproval.json()["status"] == "active"
    again = await client.post("/v1/dealer/deals", json=deal_body(approved), headers=approved.dealer)
    assert again.status_code == 201


async def test_a_deal_that_breaks_a_rule_is_refused_saying_which(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin, max_ltv="0.9", min_down_payment_ratio="0.2")
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"down_payment": 500_000}, "ltv_too_high", "down_payment"),  # 97 % financed
        ({"down_payment": 2_000_000}, "down_payment_too_low", "down_payment"),  # 13 % down
        ({"vehicle_type": "used", "term_months": 48}, "used_car_term_too_long", "term_months"),
        ({"term_months": 18}, "term_not_offered", "term_months"),
    ]
    for overrides, code, field in cases:
        response = await client.post(
            "/v1/dealer/deals", json=deal_body(approved, **overrides), headers=approved.dealer
        )
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert (error["code"], error["field"]) == (code, field)
        assert error["message"]


async def test_a_loan_above_the_credit_line_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin, max_amount=100_000_000)
    loan = approved.credit_limit + 100_000
    response = await client.post(
        "/v1/dealer/deals",
        json=deal_body(approved, price=loan * 2, down_payment=loan),
        headers=approved.dealer,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "amount_above_credit_limit"


async def test_a_zero_down_payment_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    response = await client.post(
        "/v1/dealer/deals", json=deal_body(approved, down_payment=0), headers=approved.dealer
    )
    assert response.status_code == 422
    assert {f["field"] for f in response.json()["error"]["fields"]} == {"down_payment"}


async def test_an_expired_approval_cannot_be_quoted(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    await session.execute(
        update(Preapproval)
        .where(col(Preapproval.id) == approved.preapproval["id"])
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    await session.commit()
    response = await client.post(
        "/v1/dealer/deals", json=deal_body(approved), headers=approved.dealer
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "approval_expired"


async def test_dealers_see_only_their_own_deals(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    deal_id = await quoted_deal(client, approved)
    _, other = await new_dealer(client, admin)

    mine = await client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.dealer)
    theirs = await client.get(f"/v1/dealer/deals/{deal_id}", headers=other)
    their_list = await client.get("/v1/dealer/deals", headers=other)
    my_list = await client.get("/v1/dealer/deals?status=quoted", headers=approved.dealer)
    none_confirmed = await client.get("/v1/dealer/deals?status=confirmed", headers=approved.dealer)
    as_buyer = await client.get(f"/v1/dealer/deals/{deal_id}", headers=approved.buyer)
    other_confirm = await client.post(f"/v1/dealer/deals/{deal_id}/cancel", headers=other)

    assert mine.status_code == 200 and mine.json()["id"] == deal_id
    assert theirs.status_code == 404 and other_confirm.status_code == 404
    assert their_list.json()["total"] == 0
    assert [d["id"] for d in my_list.json()["items"]] == [deal_id]
    assert none_confirmed.json()["total"] == 0
    assert as_buyer.status_code == 403
