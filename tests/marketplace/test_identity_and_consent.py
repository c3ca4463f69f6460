"""The applicant is the ID's holder: one account applies for one person, verified once; one
person has one hash however the ID is typed; consents are recorded and the sharing one can be
withdrawn; no phone is stored or logged in plaintext."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.applications.bureau import sandbox_clean_national_id
from marketplace.applications.national_id import age_on, with_check_character
from shared import pii
from shared.db import Database
from tests.factories import (
    admin_headers,
    application_body,
    apply,
    buyer_headers,
    fresh_phone,
    lender_with_product,
    national_id,
)

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def spellings(number: str) -> list[str]:
    """The same ID as people type it: full-width, Arabic-Indic, spaced, lower-case x."""
    return [
        number.translate(FULL_WIDTH),
        number.translate(ARABIC_INDIC).lower(),
        f" {number[:6]} {number[6:14]} {number[14:].lower()} ",
    ]


def an_id_ending_in_x() -> str:
    for serial in range(999):
        number = with_check_character(f"11010519900101{serial:03d}")
        if number.endswith("X"):
            return number
    raise AssertionError("no ID with check character X")


@pytest.mark.parametrize("spelled", spellings(an_id_ending_in_x()))
def test_every_spelling_of_an_id_is_one_person(spelled: str) -> None:
    from shared.identifiers import normalize_national_id

    canonical = an_id_ending_in_x()
    assert normalize_national_id(spelled) == canonical
    assert pii.lookup_hash(normalize_national_id(spelled)) == pii.lookup_hash(canonical)


async def test_another_spelling_of_an_approved_id_is_the_same_person(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin)
    buyer = await buyer_headers(client)
    number = national_id(35)
    first = await apply(client, buyer, national_id=number)
    assert first.json()["decision"] == "approved"
    refusals = [await apply(client, buyer, national_id=s) for s in spellings(number)[:2]]
    assert [r.status_code for r in refusals] == [409, 409]
    hashes = (
        await session.execute(text("SELECT DISTINCT person_hash FROM applications"))
    ).scalars()
    assert list(hashes) == [pii.lookup_hash(number)]


async def test_an_account_cannot_apply_for_an_id_it_is_not_bound_to(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin)
    buyer = await buyer_headers(client)
    assert (await apply(client, buyer, national_id=national_id(35))).status_code == 201
    someone_else = await apply(client, buyer, national_id=national_id(40), age=40)
    assert someone_else.status_code == 409
    assert someone_else.json()["error"]["code"] == "application_refused"


async def test_an_id_bound_elsewhere_and_an_id_with_an_approval_get_one_same_refusal(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin)
    holder = await buyer_headers(client)
    number = national_id(35)
    approved = await apply(client, holder, national_id=number)
    assert approved.json()["decision"] == "approved"
    preapproval_id = approved.json()["preapproval"]["id"]

    stranger = await buyer_headers(client)
    bound_elsewhere = await apply(client, stranger, national_id=number)
    own_again = await apply(client, holder, national_id=number)

    assert bound_elsewhere.status_code == own_again.status_code == 409
    assert bound_elsewhere.json() == own_again.json()
    assert bound_elsewhere.json()["error"]["code"] == "application_refused"
    assert preapproval_id not in bound_elsewhere.text
    assert approved.json()["id"] not in bound_elsewhere.text


async def test_two_accounts_racing_for_one_id_bind_one_and_the_other_is_refused(
    committed_client: httpx.AsyncClient, committed_database: Database
) -> None:
    """Both pass the identity check; the unique index lets one account bind the ID, and the
    other's transaction is rolled back to a 409, never a 500 or a second binding."""
    async with committed_database.sessionmaker() as session:
        admin = await admin_headers(committed_client, session)
    await lender_with_product(committed_client, admin)
    # Three: the attempts one person may make a day (a fourth would be told 429).
    accounts = [await buyer_headers(committed_client) for _ in range(3)]
    number = national_id(35)

    answers = await asyncio.gather(
        *(apply(committed_client, account, national_id=number) for account in accounts)
    )

    assert sorted(a.status_code for a in answers) == [201, 409, 409], [a.text for a in answers]
    refused = [a.json()["error"]["code"] for a in answers if a.status_code == 409]
    assert refused == ["application_refused"] * 2
    async with committed_database.sessionmaker() as session:
        bound = await session.execute(
            text("SELECT count(*) FROM users WHERE person_hash = :hash"),
            {"hash": pii.lookup_hash(number)},
        )
        applications = await session.execute(text("SELECT count(*) FROM applications"))
    assert bound.scalar_one() == 1
    assert applications.scalar_one() == 1  # the losers recorded nothing


async def test_the_sandbox_failure_trigger_is_identity_mismatch_and_binds_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin)
    buyer = await buyer_headers(client)
    mismatching = with_check_character("11010519900101999")
    response = await apply(
        client, buyer, national_id=mismatching, age=age_on(mismatching, date.today())
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "identity_mismatch"
    bound = await session.execute(text("SELECT count(*) FROM users WHERE person_hash IS NOT NULL"))
    assert bound.scalar_one() == 0
    # The account can still apply for the person it really is.
    assert (await apply(client, buyer)).status_code == 201


async def test_consents_are_recorded_and_sharing_can_be_withdrawn(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await admin_headers(client, session)
    lender, _, _ = await lender_with_product(client, admin)
    buyer = await buyer_headers(client)
    application = (await apply(client, buyer)).json()

    consents = (await client.get("/v1/buyer/consents", headers=buyer)).json()
    assert consents["total"] == 2
    by_kind = {c["kind"]: c for c in consents["items"]}
    pull, sharing = by_kind["bureau_pull"], by_kind["lender_sharing"]
    assert pull["application_id"] == sharing["application_id"] == application["id"]
    assert pull["version"] and "征信" in pull["text"]["zh"] and pull["text"]["en"]
    assert pull["recipients"] == []
    assert {"id": lender["id"], "name": lender["name"]} in sharing["recipients"]
    assert sharing["withdrawn_at"] is None

    refused = await client.post(f"/v1/buyer/consents/{pull['id']}/withdraw", headers=buyer)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "consent_not_withdrawable"
    withdrawn = await client.post(f"/v1/buyer/consents/{sharing['id']}/withdraw", headers=buyer)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["withdrawn_at"] is not None
    other = await buyer_headers(client)
    assert (
        await client.post(f"/v1/buyer/consents/{sharing['id']}/withdraw", headers=other)
    ).status_code == 404


async def test_lenders_see_grade_pd_and_reasons_only_while_sharing_is_consented(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from marketplace.applications import consents, repository

    admin = await admin_headers(client, session)
    lender, _, _ = await lender_with_product(client, admin)
    buyer = await buyer_headers(client)
    application_id = (await apply(client, buyer)).json()["id"]
    application = await repository.get_for_platform(session, application_id)
    assert application is not None
    import uuid

    shared = await consents.decision_shared_with(session, application, uuid.UUID(lender["id"]))
    assert shared is not None and set(shared) == {"grade", "pd", "reasons"}
    assert await consents.decision_shared_with(session, application, uuid.uuid4()) is None
    sharing = next(
        c
        for c in (await client.get("/v1/buyer/consents", headers=buyer)).json()["items"]
        if c["kind"] == "lender_sharing"
    )
    await client.post(f"/v1/buyer/consents/{sharing['id']}/withdraw", headers=buyer)
    assert (
        await consents.decision_shared_with(session, application, uuid.UUID(lender["id"])) is None
    )


async def test_without_the_sharing_consent_nothing_is_pulled(client: httpx.AsyncClient) -> None:
    buyer = await buyer_headers(client)
    response = await client.post(
        "/v1/buyer/applications",
        json=application_body(consent={"bureau_pull": True, "share_with_lenders": False}),
        headers=buyer,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "consent.share_with_lenders"


async def test_no_phone_is_stored_or_logged_in_plaintext(
    client: httpx.AsyncClient, session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = await admin_headers(client, session)
    await lender_with_product(client, admin)
    phone = fresh_phone()
    buyer = await buyer_headers(client, phone=phone)
    assert (await apply(client, buyer)).status_code == 201
    await client.post("/v1/auth/sms-codes", json={"phone": phone, "purpose": "login"})

    dump = await session.execute(
        text(
            "SELECT string_agg(t::text, ' ') FROM ("
            " SELECT row_to_json(u)::text AS t FROM users u"
            " UNION ALL SELECT row_to_json(a)::text FROM applications a"
            " UNION ALL SELECT row_to_json(e)::text FROM audit_log e"
            " UNION ALL SELECT row_to_json(s)::text FROM sms_codes s"
            " UNION ALL SELECT row_to_json(r)::text FROM rate_limit_counters r) rows"
        )
    )
    stored = dump.scalar_one()
    assert phone not in stored and phone[3:] not in stored
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert phone not in logged and phone[3:] not in logged
    assert f"{phone[:3]}****{phone[-4:]}" in logged  # the sandbox logs the masked phone


def test_sandbox_clean_ids_never_carry_the_mismatch_trigger() -> None:
    number = sandbox_clean_national_id("110105", date(1990, 1, 1))
    assert number[14:17] != "999"
