"""Races on committed data: concurrent applications for one person leave one active approval."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from autofin.main import create_app
from marketplace.preapprovals.models import Preapproval
from shared.db import Database
from tests.factories import apply, buyer_headers, national_id


async def test_concurrent_applications_for_one_person_yield_one_active_preapproval(
    committed_database: Database,
) -> None:
    transport = httpx.ASGITransport(app=create_app(committed_database))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        buyers = [await buyer_headers(client, phone=f"1391234{n:04d}") for n in range(8)]
        person = national_id(35)
        responses = await asyncio.gather(*(apply(client, b, national_id=person) for b in buyers))

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, [r.text for r in responses]
    # The rest are refused: 409 once the approval exists (or lost the race for it), 429 once
    # the person's three applications a day are counted. Attempts no longer take turns, so
    # which refusal each one gets depends on timing; never a server error.
    assert all(s in (201, 409, 429) for s in statuses)
    assert statuses.count(201) + statuses.count(409) <= 3  # the per-person limit held
    async with committed_database.sessionmaker() as session:
        active = await session.execute(
            select(func.count()).where(col(Preapproval.status) == "active")
        )
        assert active.scalar_one() == 1
