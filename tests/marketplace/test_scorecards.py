"""The scorecard registry: publish, champion, challenger; decisions record both cards."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from autofin.main import create_app
from marketplace.applications.models import Application
from marketplace.scorecards.models import PublishedScorecard
from pricing import BureauFacts
from shared.audit import AuditEntry
from shared.db import Database
from tests.factories import Headers, admin_headers, apply, buyer_headers, lender_with_product
from tests.scorecard_cards import card

pytestmark = pytest.mark.usefixtures("_products")


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> Headers:
    return await admin_headers(client, session)


@pytest.fixture
async def _products(client: httpx.AsyncClient, admin: Headers) -> None:
    await lender_with_product(client, admin)


async def publish(
    client: httpx.AsyncClient, admin: Headers, body: dict[str, object]
) -> httpx.Response:
    return await client.post("/v1/admin/scorecards", json=body, headers=admin)


async def test_a_published_card_is_a_candidate_and_the_same_card_again_is_the_same_row(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    first = await publish(client, admin, card("test-card-1"))
    assert first.status_code == 201, first.text
    assert first.json()["role"] == "candidate" and first.json()["uses_structure"] is True
    again = await publish(client, admin, card("test-card-1"))
    assert again.status_code == 201 and again.json()["sha256"] == first.json()["sha256"]

    different = await publish(client, admin, card("test-card-1", base_points_shift=5))
    assert different.status_code == 409
    assert different.json()["error"]["code"] == "scorecard_version_taken"
    listed = (await client.get("/v1/admin/scorecards", headers=admin)).json()
    assert [item["version"] for item in listed["items"]] == ["test-card-1"]


async def test_a_card_that_cannot_be_used_is_refused_saying_why(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    broken = card("test-broken")
    broken["characteristics"][0]["attribute"] = "shoe_size"
    response = await publish(client, admin, broken)
    assert response.status_code == 422
    assert "shoe_size" in response.json()["error"]["message"]


async def test_the_champion_decides_every_application_and_is_audited(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    await publish(client, admin, card("test-champion-a"))
    await publish(client, admin, card("test-champion-b", base_points_shift=40))
    first = await client.post("/v1/admin/scorecards/test-champion-a/activate", headers=admin)
    assert first.status_code == 200 and first.json()["role"] == "champion"
    second = await client.post("/v1/admin/scorecards/test-champion-b/activate", headers=admin)
    assert second.json()["role"] == "champion"

    roles = {
        row.version: row.role
        for row in (await session.execute(select(PublishedScorecard))).scalars()
    }
    assert roles == {"test-champion-a": "candidate", "test-champion-b": "champion"}
    application = await apply(client, await buyer_headers(client))
    stored = await session.get(Application, uuid.UUID(application.json()["id"]))
    assert stored is not None and stored.scorecard_version == "test-champion-b"
    assert stored.score is not None and stored.pd is not None
    actions = (
        await session.execute(
            select(col(AuditEntry.action)).where(col(AuditEntry.subject_type) == "scorecard")
        )
    ).scalars()
    assert "scorecard.champion" in set(actions)


async def test_activating_an_unknown_version_is_not_found(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    response = await client.post("/v1/admin/scorecards/no-such-card/activate", headers=admin)
    assert response.status_code == 404


class SameFileBureau:
    """Every applicant has the same bureau file, so two applicants differ only by the cards."""

    name = "same-file"

    async def pull(self, national_id: str) -> BureauFacts:
        return BureauFacts(credit_history_months=60, revolving_utilisation=Decimal("0.2"))


async def test_a_challenger_is_recorded_beside_the_decision_and_never_changes_it(
    app: FastAPI, client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    app.state.bureau = SameFileBureau()
    without = (await apply(client, await buyer_headers(client))).json()
    # A challenger harsh enough to decline everyone: if it were used, it would show.
    await publish(client, admin, card("test-harsh", base_points_shift=-300))
    response = await client.post("/v1/admin/scorecards/test-harsh/challenger", headers=admin)
    assert response.status_code == 200 and response.json()["role"] == "challenger"

    shadowed = (await apply(client, await buyer_headers(client, phone="13812340001"))).json()
    assert (shadowed["decision"], shadowed["grade"]) == (without["decision"], without["grade"])
    assert shadowed["preapproval"]["credit_limit"] == without["preapproval"]["credit_limit"]
    first = await session.get(Application, uuid.UUID(without["id"]))
    second = await session.get(Application, uuid.UUID(shadowed["id"]))
    assert first is not None and second is not None
    assert (second.score, second.pd, second.scorecard_version) == (
        first.score, first.pd, first.scorecard_version
    )  # fmt: skip
    assert second.challenger_version == "test-harsh"
    assert second.challenger_score is not None and second.challenger_score < second.score
    assert second.challenger_grade is None  # the challenger would have declined
    assert first.challenger_version is None


async def test_the_champion_cannot_be_the_challenger_and_a_challenger_can_be_stopped(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await publish(client, admin, card("test-both"))
    await client.post("/v1/admin/scorecards/test-both/activate", headers=admin)
    refused = await client.post("/v1/admin/scorecards/test-both/challenger", headers=admin)
    assert refused.status_code == 409
    await publish(client, admin, card("test-shadow"))
    await client.post("/v1/admin/scorecards/test-shadow/challenger", headers=admin)
    assert (
        await client.delete("/v1/admin/scorecards/challenger", headers=admin)
    ).status_code == 204
    listed = (await client.get("/v1/admin/scorecards", headers=admin)).json()["items"]
    assert {item["version"]: item["role"] for item in listed}["test-shadow"] == "candidate"


async def test_a_published_card_cannot_be_edited_or_deleted(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    await publish(client, admin, card("test-immutable"))
    for statement in (
        "UPDATE scorecards SET card = '{}'::jsonb WHERE version = 'test-immutable'",
        "DELETE FROM scorecards WHERE version = 'test-immutable'",
    ):
        with pytest.raises(DBAPIError):
            async with session.begin_nested():
                await session.execute(text(statement))


async def test_admins_activating_cards_at_once_leave_exactly_one_champion(
    committed_database: Database,
) -> None:
    transport = httpx.ASGITransport(app=create_app(committed_database))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        async with committed_database.sessionmaker() as session:
            admin = await admin_headers(client, session)
        versions = [f"race-{n}" for n in range(4)]
        for version in versions:
            assert (await publish(client, admin, card(version))).status_code == 201
        for _round in range(3):
            responses = await asyncio.gather(
                *(
                    client.post(f"/v1/admin/scorecards/{version}/activate", headers=admin)
                    for version in versions
                )
            )
            statuses = [response.status_code for response in responses]
            assert set(statuses) <= {200, 409} and 200 in statuses, statuses
            async with committed_database.sessionmaker() as session:
                champions = await session.execute(
                    select(func.count()).where(col(PublishedScorecard.role) == "champion")
                )
                assert champions.scalar_one() == 1
