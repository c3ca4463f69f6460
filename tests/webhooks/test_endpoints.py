"""Registering, listing, disabling and deleting endpoints; the outbox's fan-out; tenancy."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest
from pydantic import AnyHttpUrl
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from autofin.jobs import run_daily_jobs
from shared import pii
from shared.db import utcnow
from shared.webhooks import outbox, service
from shared.webhooks.exceptions import WebhookUrlRefused
from shared.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.factories import (
    Headers,
    admin_headers,
    api_key_headers,
    create_organization,
    error_fields,
    staff_headers,
)

LOCAL = "http://127.0.0.1:9/hooks"


async def organization(
    client: httpx.AsyncClient, admin: Headers, kind: str = "lender"
) -> tuple[uuid.UUID, Headers]:
    created = await create_organization(client, admin, kind)
    return uuid.UUID(str(created["id"])), await staff_headers(client, admin, created["id"])


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> Headers:
    return await admin_headers(client, session)


async def test_an_endpoint_is_registered_with_a_secret_shown_once_and_stored_encrypted(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    lender_id, staff = await organization(client, admin)
    created = await client.post(
        "/v1/lender/webhook-endpoints",
        json={"url": LOCAL, "events": ["loan.funded", "payment.succeeded", "loan.funded"]},
        headers=staff,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["events"] == ["loan.funded", "payment.succeeded"] and body["enabled"] is True

    listed = await client.get("/v1/lender/webhook-endpoints", headers=staff)
    assert listed.json()["total"] == 1 and listed.json()["limit"] == 20
    assert "secret" not in listed.json()["items"][0]
    assert body["secret"] not in listed.text
    stored = await session.get(WebhookEndpoint, uuid.UUID(body["id"]))
    assert stored is not None and stored.organization_id == lender_id
    assert body["secret"] not in stored.secret_encrypted
    assert pii.decrypt(stored.secret_encrypted) == body["secret"]


async def test_bad_endpoints_are_refused_with_the_field_named(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    _, staff = await organization(client, admin)
    cases: list[tuple[dict[str, object], str | None]] = [
        ({"url": "http://example.com/hooks", "events": ["loan.funded"]}, "url"),
        ({"url": "ftp://127.0.0.1/hooks", "events": ["loan.funded"]}, "url"),
        ({"url": LOCAL, "events": ["loan.exploded"]}, "events.0"),
        ({"url": LOCAL, "events": []}, "events"),
        ({"url": LOCAL, "events": ["loan.funded"], "organization_id": str(uuid.uuid4())}, None),
    ]
    for body, field in cases:
        refused = await client.post("/v1/lender/webhook-endpoints", json=body, headers=staff)
        assert refused.status_code == 422, refused.text
        if field is not None:
            assert field in error_fields(refused) | {refused.json()["error"].get("field")}
    plain_http = await client.post("/v1/lender/webhook-endpoints", json=cases[0][0], headers=staff)
    assert plain_http.json()["error"]["code"] == "webhook_url_refused"
    listed = await client.get("/v1/lender/webhook-endpoints", headers=staff)
    assert listed.json()["total"] == 0


def test_production_takes_only_https_to_public_hosts() -> None:
    def check(url: str, *, production: bool) -> str:
        return service.check_url(AnyHttpUrl(url), production=production)

    assert check("https://hooks.example.com/a", production=True) == "https://hooks.example.com/a"
    assert check("http://localhost:8080/a", production=False) == "http://localhost:8080/a"
    assert check("http://[::1]:8080/a", production=False) == "http://[::1]:8080/a"
    for url in ("http://hooks.example.com/a", "http://127.0.0.1/a"):
        with pytest.raises(WebhookUrlRefused):
            check(url, production=True)
    for url in (
        "https://127.0.0.1/a",
        "https://localhost/a",
        "https://10.1.2.3/a",
        "https://169.254.169.254/latest",
        "https://[::1]/a",
        "https://0.0.0.0/a",
    ):
        with pytest.raises(WebhookUrlRefused) as refused:
            check(url, production=True)
        assert refused.value.variant == "internal"


async def test_an_event_is_owed_to_each_enabled_subscribed_endpoint_of_the_organisations_named(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    lender_id, lender_staff = await organization(client, admin)
    dealer_id, dealer_staff = await organization(client, admin, "dealer")
    _, other_staff = await organization(client, admin)

    async def endpoint(headers: Headers, audience: str, events: list[str]) -> str:
        created = await client.post(
            f"/v1/{audience}/webhook-endpoints",
            json={"url": LOCAL, "events": events},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    wanted = await endpoint(lender_staff, "lender", ["loan.funded"])
    await endpoint(lender_staff, "lender", ["payment.succeeded"])  # another type
    disabled = await endpoint(lender_staff, "lender", ["loan.funded"])
    await client.patch(
        f"/v1/lender/webhook-endpoints/{disabled}", json={"enabled": False}, headers=lender_staff
    )
    dealer_endpoint = await endpoint(dealer_staff, "dealer", ["loan.funded", "deal.signed"])
    await endpoint(other_staff, "lender", ["loan.funded"])  # not concerned

    event_id = await outbox.emit(
        session, [lender_id, dealer_id, None], "loan.funded", {"loan_id": uuid.uuid4()}
    )
    await session.flush()

    owed = (
        await session.execute(
            select(col(WebhookDelivery.endpoint_id), col(WebhookDelivery.organization_id)).where(
                col(WebhookDelivery.event_id) == event_id
            )
        )
    ).all()
    assert sorted((str(e), o) for e, o in owed) == sorted(
        [(wanted, lender_id), (dealer_endpoint, dealer_id)]
    )
    event = await session.get(WebhookEvent, event_id)
    assert event is not None and event.type == "loan.funded"
    assert sorted(event.organization_ids) == sorted([lender_id, dealer_id])
    with pytest.raises(ValueError, match="not a valid EventType"):
        await outbox.emit(session, [lender_id], "loan.exploded", {})


async def test_another_organisations_endpoints_and_deliveries_are_not_found(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    lender_id, staff = await organization(client, admin)
    other_id, other_staff = await organization(client, admin)
    dealer_id, dealer_staff = await organization(client, admin, "dealer")
    created = await client.post(
        "/v1/lender/webhook-endpoints",
        json={"url": LOCAL, "events": ["loan.funded"]},
        headers=staff,
    )
    endpoint_id = created.json()["id"]
    await outbox.emit(session, [lender_id], "loan.funded", {"loan_id": "L"})
    await session.flush()
    mine = await client.get(f"/v1/lender/webhook-endpoints/{endpoint_id}/deliveries", headers=staff)
    delivery_id = mine.json()["items"][0]["id"]
    base = f"/v1/lender/webhook-endpoints/{endpoint_id}"

    for headers in (other_staff,):
        assert (await client.get(base, headers=headers)).status_code == 404
        assert (await client.get(f"{base}/deliveries", headers=headers)).status_code == 404
        redeliver = await client.post(f"{base}/deliveries/{delivery_id}/redeliver", headers=headers)
        assert redeliver.status_code == 404
        assert redeliver.json()["error"]["code"] == "webhook_endpoint_not_found"
        patched = await client.patch(base, json={"enabled": False}, headers=headers)
        assert patched.status_code == 404
        assert (await client.delete(base, headers=headers)).status_code == 404
        listed = await client.get("/v1/lender/webhook-endpoints", headers=headers)
        assert listed.json()["total"] == 0
    # A dealer reaches only its own organisation's settings, under its own prefix.
    dealer_path = f"/v1/dealer/webhook-endpoints/{endpoint_id}"
    assert (await client.get(dealer_path, headers=dealer_staff)).status_code == 404
    assert (await client.get(base, headers=dealer_staff)).status_code == 403
    # A delivery of another endpoint is not found under this one.
    second = await client.post(
        "/v1/lender/webhook-endpoints",
        json={"url": LOCAL, "events": ["loan.funded"]},
        headers=staff,
    )
    wrong = f"/v1/lender/webhook-endpoints/{second.json()['id']}/deliveries/{delivery_id}/redeliver"
    missing = await client.post(wrong, headers=staff)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "webhook_delivery_not_found"
    # Still all there for the owner.
    assert (await client.get(base, headers=staff)).json()["enabled"] is True
    assert other_id != lender_id and dealer_id != lender_id


async def test_an_api_key_acts_as_its_organisation(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    created = await create_organization(client, admin, "dealer")
    key = await api_key_headers(client, admin, created["id"])
    staff = await staff_headers(client, admin, created["id"])
    registered = await client.post(
        "/v1/dealer/webhook-endpoints",
        json={"url": LOCAL, "events": ["deal.handed_over"]},
        headers=key,
    )
    assert registered.status_code == 201, registered.text
    seen = await client.get("/v1/dealer/webhook-endpoints", headers=staff)
    assert [item["id"] for item in seen.json()["items"]] == [registered.json()["id"]]


async def test_disabling_gives_up_what_is_owed_and_deleting_removes_the_log(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    lender_id, staff = await organization(client, admin)
    created = await client.post(
        "/v1/lender/webhook-endpoints",
        json={"url": LOCAL, "events": ["loan.funded"]},
        headers=staff,
    )
    base = f"/v1/lender/webhook-endpoints/{created.json()['id']}"
    await outbox.emit(session, [lender_id], "loan.funded", {"loan_id": "L"})
    await session.flush()

    disabled = await client.patch(base, json={"enabled": False}, headers=staff)
    assert disabled.status_code == 200
    assert disabled.json()["enabled"] is False and disabled.json()["disabled_reason"] == "manual"
    log = (await client.get(f"{base}/deliveries", headers=staff)).json()
    assert log["items"][0]["status"] == "failed"
    resubscribed = await client.patch(
        base, json={"events": ["loan.paid_off"], "enabled": True}, headers=staff
    )
    assert resubscribed.json()["events"] == ["loan.paid_off"]
    assert resubscribed.json()["enabled"] is True
    assert resubscribed.json()["disabled_reason"] is None

    assert (await client.delete(base, headers=staff)).status_code == 204
    assert (await client.get(base, headers=staff)).status_code == 404
    assert (await client.get(f"{base}/deliveries", headers=staff)).status_code == 404
    assert (await client.delete(base, headers=staff)).status_code == 404


async def test_the_daily_jobs_drop_month_old_events_unless_something_is_still_owed(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    lender_id, staff = await organization(client, admin)
    await client.post(
        "/v1/lender/webhook-endpoints",
        json={"url": LOCAL, "events": ["loan.funded"]},
        headers=staff,
    )
    delivered = await outbox.emit(session, [lender_id], "loan.funded", {"loan_id": "old"})
    owed = await outbox.emit(session, [lender_id], "loan.funded", {"loan_id": "owed"})
    recent = await outbox.emit(session, [lender_id], "loan.funded", {"loan_id": "new"})
    await session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.event_id) == delivered)
        .values(status="succeeded")
    )
    month_ago = utcnow() - timedelta(days=31)
    await session.execute(
        update(WebhookEvent)
        .where(col(WebhookEvent.id).in_([delivered, owed]))
        .values(created_at=month_ago)
    )
    done = await run_daily_jobs(session, as_of=date.today(), progress=lambda _: None)
    assert done["webhook_events_purged"] == 1
    left = await session.scalars(
        select(col(WebhookEvent.id)).where(col(WebhookEvent.id).in_([delivered, owed, recent]))
    )
    assert sorted(left) == sorted([owed, recent])
