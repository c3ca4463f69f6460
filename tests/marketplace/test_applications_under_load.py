"""Applications with more requests in flight than the connection pool holds, and a bureau that
takes its time: every one decided once, none stalled, no connection held during the pull."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from autofin.main import create_app
from marketplace.applications.bureau import SandboxBureau
from marketplace.applications.models import Application
from marketplace.preapprovals.models import Preapproval
from pricing import BureauFacts
from shared.db import Database
from tests.factories import admin_headers, apply, direct_buyers, lender_with_product
from tests.load import pool_of

POOL = 5
APPLICATIONS = 40


class WatchedBureau(SandboxBureau):
    """The sandbox bureau, slow, noting the pooled connections checked out during each pull."""

    def __init__(self, database: Database, *, latency_ms: int) -> None:
        super().__init__(latency_ms=latency_ms)
        self.database = database
        self.checked_out: list[int] = []

    async def pull(self, national_id: str) -> BureauFacts:
        self.checked_out.append(self.database.engine.pool.checkedout())  # type: ignore[attr-defined]
        return await super().pull(national_id)


async def test_forty_applications_through_a_pool_of_five_are_each_decided_once(
    committed_database: Database,
) -> None:
    async with pool_of(committed_database, POOL) as small:
        app = create_app(small)
        app.state.bureau = SandboxBureau(latency_ms=200)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            async with committed_database.sessionmaker() as session:
                await lender_with_product(client, await admin_headers(client, session))
            buyers = await direct_buyers(committed_database, APPLICATIONS)
            answers = await asyncio.gather(*(apply(client, headers) for headers, _ in buyers))

    assert [a.status_code for a in answers] == [201] * APPLICATIONS, [
        a.text for a in answers if a.status_code != 201
    ]
    assert {a.json()["decision"] for a in answers} == {"approved"}
    async with committed_database.sessionmaker() as session:
        decided = await session.execute(
            select(func.count()).where(col(Application.status) == "decided")
        )
        active = await session.execute(
            select(func.count()).where(col(Preapproval.status) == "active")
        )
    assert decided.scalar_one() == APPLICATIONS
    assert active.scalar_one() == APPLICATIONS


async def test_no_connection_is_held_while_the_bureau_answers(
    committed_database: Database,
) -> None:
    async with pool_of(committed_database, 2) as small:
        app = create_app(small)
        bureau = app.state.bureau = WatchedBureau(small, latency_ms=50)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            [(buyer, _)] = await direct_buyers(committed_database, 1)
            applied = await apply(client, buyer)

    assert applied.status_code == 201, applied.text
    assert bureau.checked_out == [0]
