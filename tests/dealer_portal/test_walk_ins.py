"""Walk-in customers: submitted by dealer staff to every lender at once, claimable later."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.applications.national_id import age_on, with_check_character
from shared.identity.models import User, UserKind
from tests.dealer_portal.conftest import new_dealer
from tests.factories import (
    PASSWORD,
    admin_headers,
    application_body,
    apply,
    buyer_headers,
    fresh_phone,
    lender_with_product,
    login,
    national_id,
    register_body,
    sms_code,
)

WALK_IN_PHONE = "13700001234"


def walk_in_body(**overrides: object) -> dict[str, object]:
    return {"full_name": "王小明", "phone": WALK_IN_PHONE, **application_body(), **overrides}


async def test_a_walk_in_gets_a_decision_with_every_lenders_offers_and_a_claimable_account(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin, name="Bank A loan")
    await lender_with_product(client, admin, name="Bank B loan")
    _, dealer = await new_dealer(client, admin)
    body = walk_in_body()

    response = await client.post("/v1/dealer/walk-ins", json=body, headers=dealer)

    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["decision"] == "approved" and answer["channel"] == "walk_in"
    assert {o["product"] for o in answer["preapproval"]["offers"]} == {"Bank A loan", "Bank B loan"}
    assert answer["buyer"]["name_masked"] == "王**"
    assert answer["buyer"]["phone_masked"] == "137****1234"
    assert str(body["national_id"]) not in response.text and "王小明" not in response.text
    # The dealer can go straight on to the deal with the approval code and the phone digits.
    lookup = await client.post(
        "/v1/dealer/lookups",
        json={"code": answer["preapproval"]["code"], "verifier": "1234"},
        headers=dealer,
    )
    assert lookup.status_code == 200 and lookup.json()["buyer_name_masked"] == "王**"

    claim = {
        "phone": WALK_IN_PHONE,
        "claim_code": answer["claim"]["claim_code"],
        "email": "wang.xiaoming@example.com",
        "password": PASSWORD,
    }
    claimed = await client.post("/v1/auth/claim", json=claim)
    reused = await client.post("/v1/auth/claim", json=claim | {"email": "other@example.com"})

    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["email"] == "wang.xiaoming@example.com"
    assert reused.status_code == 404 and reused.json()["error"]["code"] == "claim_invalid"
    buyer = await login(client, "wang.xiaoming@example.com")
    mine = await client.get("/v1/buyer/applications", headers=buyer)
    assert [a["id"] for a in mine.json()["items"]] == [answer["application_id"]]


async def test_a_wrong_claim_code_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin)
    _, dealer = await new_dealer(client, admin)
    response = await client.post("/v1/dealer/walk-ins", json=walk_in_body(), headers=dealer)
    assert response.status_code == 201, response.text
    claim = {
        "phone": WALK_IN_PHONE,
        "claim_code": "WRONG234",
        "email": "someone@example.com",
        "password": PASSWORD,
    }
    wrong = await client.post("/v1/auth/claim", json=claim)
    assert wrong.status_code == 404


async def test_walk_ins_are_for_dealers_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    _, lender = (await lender_with_product(client, admin))[:2]
    refused = await client.post("/v1/dealer/walk-ins", json=walk_in_body(), headers=lender)
    no_consent = await client.post(
        "/v1/dealer/walk-ins",
        json=walk_in_body(consent={"bureau_pull": False, "share_with_lenders": True}),
        headers=(await new_dealer(client, admin))[1],
    )
    assert refused.status_code == 403
    assert no_consent.status_code == 422


async def test_a_walk_in_customer_is_verified_as_online_buyers_are(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin)
    _, dealer = await new_dealer(client, admin)
    mismatching = with_check_character("11010519900101999")
    body = walk_in_body(national_id=mismatching, age=age_on(mismatching, date.today()))
    response = await client.post("/v1/dealer/walk-ins", json=body, headers=dealer)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "identity_mismatch"


async def test_a_walk_in_for_someone_elses_id_gets_the_same_refusal_and_no_ids(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin)
    _, dealer = await new_dealer(client, admin)
    holder = await buyer_headers(client)
    number = national_id(35)
    online = await apply(client, holder, national_id=number)
    assert online.json()["decision"] == "approved"

    walk_in = await client.post(
        "/v1/dealer/walk-ins", json=walk_in_body(national_id=number), headers=dealer
    )
    again_online = await apply(client, holder, national_id=number)
    assert walk_in.status_code == again_online.status_code == 409
    assert walk_in.json() == again_online.json()
    assert online.json()["preapproval"]["id"] not in walk_in.text


async def test_a_walk_in_with_a_registered_phone_goes_to_that_account(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin)
    _, dealer = await new_dealer(client, admin)
    phone = fresh_phone()
    buyer = await buyer_headers(client, phone=phone)
    response = await client.post(
        "/v1/dealer/walk-ins", json=walk_in_body(phone=phone), headers=dealer
    )
    assert response.status_code == 201, response.text
    assert response.json()["claim"] is None  # the account is already someone's own
    mine = (await client.get("/v1/buyer/applications", headers=buyer)).json()
    assert [a["id"] for a in mine["items"]] == [response.json()["application_id"]]
    buyers = await session.execute(
        select(func.count()).select_from(User).where(User.kind == UserKind.buyer)  # type: ignore[arg-type]
    )
    assert buyers.scalar_one() == 1  # no second account for the same phone


async def test_registering_with_a_walk_in_phone_takes_over_that_account(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin)
    _, dealer = await new_dealer(client, admin)
    phone = fresh_phone()
    walk_in = await client.post(
        "/v1/dealer/walk-ins", json=walk_in_body(phone=phone), headers=dealer
    )
    assert walk_in.status_code == 201, walk_in.text

    body = register_body(phone, await sms_code(client, phone), email="walked.in@example.com")
    registered = await client.post("/v1/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    assert registered.json()["id"] == walk_in.json()["buyer"]["id"]
    assert registered.json()["full_name"] == "王小明"  # the name checked with the ID stays
    buyer = await login(client, "walked.in@example.com")
    mine = (await client.get("/v1/buyer/applications", headers=buyer)).json()
    assert [a["id"] for a in mine["items"]] == [walk_in.json()["application_id"]]
    # The claim code no longer works: the account has its owner.
    claim = {
        "phone": phone,
        "claim_code": walk_in.json()["claim"]["claim_code"],
        "email": "someone.else@example.com",
        "password": PASSWORD,
    }
    assert (await client.post("/v1/auth/claim", json=claim)).status_code == 404
