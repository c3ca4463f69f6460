"""Buyers apply with consent and get a pre-approval that is not tied to a car, with fair offers."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from autofin.jobs import run_daily_jobs
from marketplace.applications.bureau import BureauUnavailable, SandboxBureau
from marketplace.applications.models import Application
from marketplace.preapprovals.models import Preapproval
from marketplace.preapprovals.service import CODE_ALPHABET
from pricing import BureauFacts
from shared.audit import AuditEntry
from shared.db import utcnow
from shared.settings import get_settings
from tests.factories import (
    admin_headers,
    application_body,
    apply,
    buyer_headers,
    lender_with_product,
    national_id,
)


class CountingBureau(SandboxBureau):
    """The sandbox, counting pulls; ``down`` makes it fail like an outage."""

    def __init__(self) -> None:
        super().__init__()
        self.pulls = 0
        self.down = False

    async def pull(self, national_id: str) -> BureauFacts:
        if self.down:
            raise BureauUnavailable("outage")
        self.pulls += 1
        return await super().pull(national_id)


@pytest.fixture
def bureau(app: FastAPI) -> CountingBureau:
    app.state.bureau = CountingBureau()
    return app.state.bureau  # type: ignore[no-any-return]


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> dict[str, str]:
    return await admin_headers(client, session)


async def test_an_approved_buyer_gets_a_preapproval_with_fair_ranked_offers(
    client: httpx.AsyncClient, admin: dict[str, str], bureau: CountingBureau
) -> None:
    await lender_with_product(client, admin, name="Cheap loan")
    await lender_with_product(client, admin, name="Dear loan", upfront_fee=300_000)
    buyer = await buyer_headers(client)
    body = application_body()

    response = await client.post("/v1/buyer/applications", json=body, headers=buyer)

    assert response.status_code == 201, response.text
    application = response.json()
    assert application["decision"] == "approved"
    assert application["grade"][0] in "ABCDEFG" and len(application["grade"]) == 2
    preapproval = application["preapproval"]
    assert preapproval["status"] == "active"
    assert len(preapproval["code"]) == 8 and set(preapproval["code"]) <= set(CODE_ALPHABET)
    assert preapproval["credit_limit"] == application["credit_limit"] > 0
    offers = preapproval["offers"]
    assert [o["product"] for o in offers] == ["Cheap loan", "Dear loan"]
    assert [o["rank"] for o in offers] == [1, 2]
    assert offers[0]["total_cost"] < offers[1]["total_cost"]
    assert offers[0]["amount"] == min(preapproval["credit_limit"], 50_000_000)
    assert offers[0]["term_months"] == 36
    assert body["national_id"] not in response.text  # masked, never echoed
    assert application["national_id_masked"].startswith(str(body["national_id"])[:3] + "***")

    again = await client.get(f"/v1/buyer/preapprovals/{preapproval['id']}", headers=buyer)
    assert again.status_code == 200 and again.json()["offers"] == offers
    # The answer that created the approval (built from what was written, not read back) is
    # what a later read of the stored rows shows.
    stored = await client.get(f"/v1/buyer/applications/{application['id']}", headers=buyer)
    assert stored.status_code == 200 and stored.json() == application


async def test_an_approval_keeps_only_the_cheapest_offers_the_setting_allows(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    bureau: CountingBureau,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A big catalogue must not lock thousands of offers per approval: the cheapest
    ``AUTOFIN_OFFERS_PER_APPROVAL`` are kept (these products finance any car), ranked 1…N."""
    monkeypatch.setenv("AUTOFIN_OFFERS_PER_APPROVAL", "2")
    get_settings.cache_clear()
    try:
        for name, fee in (("Dearest", 600_000), ("Cheap", 0), ("Dear", 300_000)):
            await lender_with_product(client, admin, name=name, upfront_fee=fee)
        buyer = await buyer_headers(client)
        response = await client.post(
            "/v1/buyer/applications", json=application_body(), headers=buyer
        )
    finally:
        monkeypatch.delenv("AUTOFIN_OFFERS_PER_APPROVAL")
        get_settings.cache_clear()
    assert response.status_code == 201, response.text
    offers = response.json()["preapproval"]["offers"]
    assert [(o["product"], o["rank"]) for o in offers] == [("Cheap", 1), ("Dear", 2)]
    assert offers[1]["rank_reason"].startswith("ranked 2 of 2")


async def test_a_declined_applicant_is_told_why(
    client: httpx.AsyncClient, bureau: CountingBureau
) -> None:
    buyer = await buyer_headers(client)
    response = await apply(client, buyer, monthly_income=0)
    assert response.status_code == 201
    declined = response.json()
    assert declined["decision"] == "declined"
    assert declined["preapproval"] is None and declined["credit_limit"] == 0
    assert 1 <= len(declined["reasons"]) <= 4
    assert declined["reasons"][0]["code"] == "no_income"
    assert declined["reasons"][0]["zh"] and declined["reasons"][0]["en"]
    # PIPL Art. 24: the automated decision explained in plain words, with a way to a person.
    explanation = declined["explanation"]
    assert declined["reasons"][0]["en"].rstrip(".") in explanation["en"]
    assert (
        "review" in explanation["en"]
        and declined["reasons"][0]["zh"].rstrip("。") in explanation["zh"]
    )


async def test_a_down_graded_applicant_is_told_what_held_the_grade_down(
    client: httpx.AsyncClient, bureau: CountingBureau
) -> None:
    approved = (await apply(client, await buyer_headers(client), employment_months=3)).json()
    assert approved["decision"] == "approved" and approved["grade"] != "A1"
    explanation = approved["explanation"]
    assert f"graded you {approved['grade']}" in explanation["en"]
    for reason in approved["reasons"]:
        assert reason["en"].rstrip(".") in explanation["en"]


async def test_the_decision_is_stored_with_its_scorecard_version_and_inputs_hash(
    client: httpx.AsyncClient, session: AsyncSession, bureau: CountingBureau
) -> None:
    buyer = await buyer_headers(client)
    application_id = (await apply(client, buyer)).json()["id"]
    stored = (
        await session.execute(select(Application).where(Application.id == application_id))
    ).scalar_one()
    assert stored.scorecard_version == "german-credit-v2"
    assert stored.inputs_hash and len(stored.inputs_hash) == 64
    assert stored.consent["bureau_pull"] is True and stored.consent["consented_at"]
    assert stored.national_id_encrypted and "110105" not in stored.national_id_encrypted


async def test_the_optional_profile_is_stored_and_scored_and_leaving_it_out_still_decides(
    client: httpx.AsyncClient, session: AsyncSession, bureau: CountingBureau
) -> None:
    profile = {
        "marital_status": "married",
        "employment_type": "civil_servant",
        "monthly_expenses": 600_000,
        "assets": 50_000_000,
        "dependents": 2,
    }
    declared = await apply(client, await buyer_headers(client), **profile)
    bare = await apply(client, await buyer_headers(client))
    assert declared.status_code == bare.status_code == 201
    assert declared.json()["decision"] == bare.json()["decision"] == "approved"
    stored = (
        await session.execute(select(Application).where(Application.id == declared.json()["id"]))
    ).scalar_one()
    assert {name: getattr(stored, name) for name in profile} == profile
    kept = (
        await session.execute(select(Application).where(Application.id == bare.json()["id"]))
    ).scalar_one()
    assert kept.assets is None and kept.marital_status is None


async def test_without_consent_no_bureau_pull_happens(
    client: httpx.AsyncClient, bureau: CountingBureau
) -> None:
    buyer = await buyer_headers(client)
    response = await apply(
        client, buyer, consent={"bureau_pull": False, "share_with_lenders": True}
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "consent_required",
        "message": response.json()["error"]["message"],
        "field": "consent.bureau_pull",
    }
    assert bureau.pulls == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"national_id": "110105198001011234"}, "national_id"),  # wrong check digit
        ({"national_id": "11010519801301123X"}, "national_id"),  # month 13
        ({"age": 40, "national_id": national_id(35)}, "age"),  # the ID says 35
        ({"monthly_income": -1}, "monthly_income"),
        ({"monthly_income": 12.5}, "monthly_income"),
        ({"housing": "castle"}, "housing"),
        ({"grade": "A1"}, "grade"),  # server-owned
        ({"marital_status": "complicated"}, "marital_status"),
        ({"employment_type": "astronaut"}, "employment_type"),
        ({"monthly_expenses": -1}, "monthly_expenses"),
        ({"assets": "lots"}, "assets"),
        ({"dependents": 21}, "dependents"),
        ({"ltv": "0.8"}, "ltv"),  # the loan's structure is not the applicant's to declare
    ],
)
async def test_bad_applications_are_422_naming_the_field(
    client: httpx.AsyncClient, bureau: CountingBureau, overrides: dict[str, object], field: str
) -> None:
    buyer = await buyer_headers(client)
    response = await apply(client, buyer, **overrides)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error.get("field") == field or field in [f["field"] for f in error.get("fields", [])]
    assert bureau.pulls == 0


async def test_one_person_holds_one_active_preapproval_whatever_the_account(
    client: httpx.AsyncClient, bureau: CountingBureau
) -> None:
    person = national_id(35)
    holder = await buyer_headers(client)
    first = await apply(client, holder, national_id=person)
    preapproval_id = first.json()["preapproval"]["id"]
    refusals = [
        await apply(client, buyer, national_id=person)
        for buyer in (holder, await buyer_headers(client), await buyer_headers(client))
    ]
    assert {r.status_code for r in refusals} == {409}
    assert refusals[0].json() == refusals[1].json() == refusals[2].json()
    assert refusals[0].json()["error"]["code"] == "application_refused"
    assert all(preapproval_id not in r.text for r in refusals)  # no one else's ids
    assert bureau.pulls == 1


async def test_a_new_pull_within_30_days_reuses_the_last_report(
    client: httpx.AsyncClient, bureau: CountingBureau
) -> None:
    buyer = await buyer_headers(client)
    person = national_id(35)
    first = (await apply(client, buyer, national_id=person)).json()
    cancelled = await client.post(
        f"/v1/buyer/preapprovals/{first['preapproval']['id']}/cancel", headers=buyer
    )
    assert cancelled.json()["status"] == "cancelled"
    second = await apply(client, buyer, national_id=person)
    assert second.status_code == 201 and second.json()["decision"] == "approved"
    assert bureau.pulls == 1
    # The stored report is the pull's facts as they came: the same person, the same grade.
    assert second.json()["grade"] == first["grade"]
    assert second.json()["credit_limit"] == first["credit_limit"]


async def test_a_bureau_outage_leaves_the_application_pending_until_a_retry(
    client: httpx.AsyncClient, bureau: CountingBureau
) -> None:
    buyer = await buyer_headers(client)
    bureau.down = True
    pending = await apply(client, buyer)
    assert pending.status_code == 201
    assert (
        pending.json()["decision"] == "pending_bureau"
        and pending.json()["status"] == "pending_bureau"
    )

    still = await client.post(f"/v1/buyer/applications/{pending.json()['id']}/retry", headers=buyer)
    assert still.json()["decision"] == "pending_bureau"

    bureau.down = False
    decided = await client.post(
        f"/v1/buyer/applications/{pending.json()['id']}/retry", headers=buyer
    )
    assert decided.status_code == 200
    assert decided.json()["decision"] == "approved" and decided.json()["preapproval"]["code"]
    again = await client.post(f"/v1/buyer/applications/{pending.json()['id']}/retry", headers=buyer)
    assert again.status_code == 409


async def test_the_daily_job_decides_pending_applications(
    client: httpx.AsyncClient, session: AsyncSession, bureau: CountingBureau
) -> None:
    buyer = await buyer_headers(client)
    bureau.down = True
    pending = (await apply(client, buyer)).json()
    await run_daily_jobs(
        session, as_of=utcnow().date(), progress=lambda _: None, bureau=SandboxBureau()
    )
    decided = (await client.get(f"/v1/buyer/applications/{pending['id']}", headers=buyer)).json()
    assert decided["decision"] == "approved"


async def test_an_expired_preapproval_reads_expired_before_and_after_the_daily_job(
    client: httpx.AsyncClient, session: AsyncSession, bureau: CountingBureau
) -> None:
    buyer = await buyer_headers(client)
    person = national_id(35)
    preapproval = (await apply(client, buyer, national_id=person)).json()["preapproval"]
    assert preapproval["expires_at"]
    await session.execute(
        update(Preapproval)
        .where(Preapproval.id == preapproval["id"])
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await session.commit()
    url = f"/v1/buyer/preapprovals/{preapproval['id']}"
    assert (await client.get(url, headers=buyer)).json()["status"] == "expired"
    quote = await client.post(
        f"{url}/quotes",
        json={
            "car_price": 20_000_000,
            "down_payment": 6_000_000,
            "term_months": 36,
            "vehicle_type": "new",
        },
        headers=buyer,
    )
    assert quote.status_code == 409 and quote.json()["error"]["code"] == "approval_expired"

    await run_daily_jobs(session, as_of=utcnow().date(), progress=lambda _: None)
    stored = (
        await session.execute(select(Preapproval.status).where(Preapproval.id == preapproval["id"]))
    ).scalar_one()
    assert stored == "expired"
    # The person may apply again once it has expired.
    assert (await apply(client, buyer, national_id=person)).json()["decision"] == "approved"


async def test_expires_after_the_configured_validity(
    client: httpx.AsyncClient, bureau: CountingBureau
) -> None:
    buyer = await buyer_headers(client)
    before = utcnow()
    preapproval = (await apply(client, buyer)).json()["preapproval"]
    expires_at = datetime.fromisoformat(preapproval["expires_at"])
    assert timedelta(days=45) <= expires_at - before < timedelta(days=45, minutes=5)


async def test_editing_a_product_leaves_the_locked_offers_unchanged(
    client: httpx.AsyncClient, admin: dict[str, str], bureau: CountingBureau
) -> None:
    _, lender, product = await lender_with_product(client, admin)
    buyer = await buyer_headers(client)
    preapproval = (await apply(client, buyer)).json()["preapproval"]
    locked = preapproval["offers"][0]

    edited = await client.patch(
        f"/v1/lender/products/{product['id']}",
        json={
            "rate_card": {grade: "0.2" for grade in product["rate_card"]},
            "upfront_fee": 100_000,
        },  # type: ignore[attr-defined]
        headers=lender,
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2

    shown = (await client.get(f"/v1/buyer/preapprovals/{preapproval['id']}", headers=buyer)).json()
    assert shown["offers"][0] == locked
    quote = await client.post(
        f"/v1/buyer/preapprovals/{preapproval['id']}/quotes",
        json={
            "car_price": 20_000_000,
            "down_payment": 6_000_000,
            "term_months": 36,
            "vehicle_type": "new",
        },
        headers=buyer,
    )
    quoted = quote.json()["offers"][0]
    # Priced on the locked version 1 (not version 2's 20 %), at the grade this car earns:
    # never above the locked offer.
    assert quoted["product_version"] == 1 and quoted["offer_id"] == locked["offer_id"]
    assert quoted["annual_rate"] == product["rate_card"][quoted["grade"]]  # type: ignore[index]
    assert Decimal(quoted["annual_rate"]) <= Decimal(locked["annual_rate"])


async def test_quotes_rank_the_fitting_offers_and_explain_the_others(
    client: httpx.AsyncClient, admin: dict[str, str], bureau: CountingBureau
) -> None:
    await lender_with_product(
        client, admin, name="Long used", terms_months=[36, 60], vehicle_types=["new", "used"]
    )
    await lender_with_product(client, admin, name="New only", vehicle_types=["new"])
    buyer = await buyer_headers(client)
    preapproval = (await apply(client, buyer)).json()["preapproval"]
    response = await client.post(
        f"/v1/buyer/preapprovals/{preapproval['id']}/quotes",
        json={
            "car_price": 15_000_000,
            "down_payment": 5_000_000,
            "term_months": 60,
            "vehicle_type": "used",
        },
        headers=buyer,
    )
    assert response.status_code == 200, response.text
    quote = response.json()
    assert quote["offers"] == []  # used cars are limited to 36 months by policy
    reasons = {item["product"]: item for item in quote["not_offered"]}
    assert set(reasons) == {"Long used", "New only"}
    assert all(item["message"] for item in reasons.values())

    fitting = await client.post(
        f"/v1/buyer/preapprovals/{preapproval['id']}/quotes",
        json={
            "car_price": 15_000_000,
            "down_payment": 5_000_000,
            "term_months": 36,
            "vehicle_type": "new",
        },
        headers=buyer,
    )
    offers = fitting.json()["offers"]
    assert [o["amount"] for o in offers] == [10_000_000, 10_000_000]
    assert [o["total_cost"] for o in offers] == sorted(o["total_cost"] for o in offers)


async def test_a_buyer_never_sees_another_buyers_records(
    client: httpx.AsyncClient, bureau: CountingBureau
) -> None:
    owner = await buyer_headers(client)
    application = (await apply(client, owner)).json()
    stranger = await buyer_headers(client)
    preapproval_url = f"/v1/buyer/preapprovals/{application['preapproval']['id']}"
    for method, url in [
        ("GET", f"/v1/buyer/applications/{application['id']}"),
        ("POST", f"/v1/buyer/applications/{application['id']}/retry"),
        ("GET", preapproval_url),
        ("POST", f"{preapproval_url}/cancel"),
    ]:
        assert (await client.request(method, url, headers=stranger)).status_code == 404
    quote = await client.post(
        f"{preapproval_url}/quotes",
        json={"car_price": 15_000_000, "down_payment": 5_000_000, "term_months": 36},
        headers=stranger,
    )
    assert quote.status_code == 404
    listed = (await client.get("/v1/buyer/applications", headers=stranger)).json()
    assert listed["total"] == 0 and listed["items"] == []


async def test_repeated_applications_for_one_person_are_rate_limited(
    client: httpx.AsyncClient, bureau: CountingBureau
) -> None:
    # One account per person (an account applies for its own ID only), so the person's limit
    # is the one a declined applicant meets; the account's limit stays as a second bound.
    buyer = await buyer_headers(client)
    person = national_id(35)
    statuses = []
    for _ in range(4):
        response = await apply(client, buyer, national_id=person, monthly_income=0)
        statuses.append(response.status_code)
    assert statuses == [201, 201, 201, 429]
    assert response.headers["retry-after"]
    assert bureau.pulls == 1


async def test_every_decision_is_in_the_audit_log(
    client: httpx.AsyncClient, session: AsyncSession, bureau: CountingBureau
) -> None:
    buyer = await buyer_headers(client)
    application = (await apply(client, buyer)).json()
    actions = (
        (
            await session.execute(
                select(AuditEntry.action).where(
                    AuditEntry.subject_id.in_([application["id"], application["preapproval"]["id"]])  # type: ignore[attr-defined]
                )
            )
        )
        .scalars()
        .all()
    )
    assert {"application.submitted", "application.approved", "preapproval.created"} <= set(actions)
    # The first application binds the account to the ID: both entries of that transaction go
    # in with the application (one statement), with their facts.
    recorded = {
        entry.action: entry
        for entry in (
            await session.execute(
                select(AuditEntry).where(
                    col(AuditEntry.action).in_(["identity.verified", "application.submitted"])
                )
            )
        ).scalars()
    }
    assert recorded["identity.verified"].subject_type == "user"
    assert recorded["identity.verified"].after == {"verifier": "sandbox"}
    assert recorded["application.submitted"].subject_id == application["id"]
    assert recorded["application.submitted"].after == {"channel": "online", "dealer_id": None}
    assert recorded["application.submitted"].actor == recorded["identity.verified"].actor
    audited = (
        await session.execute(
            select(func.count()).select_from(AuditEntry).where(text("after::text LIKE '%110105%'"))
        )
    ).scalar()
    assert audited == 0  # personal data never enters the audit log
