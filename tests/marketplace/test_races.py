"""Races on committed data: concurrent applications for one person leave one active approval."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from autofin.main import create_app
from marketplace.advisors.models import AdvisorAssignment, AdvisorLoad
from marketplace.preapprovals.models import Preapproval
from shared.db import Database
from tests.factories import (
    PASSWORD,
    admin_headers,
    apply,
    buyer_headers,
    national_id,
    unique_email,
)


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


async def test_concurrent_approvals_reach_every_advisor_and_each_load_counts_its_buyers(
    committed_database: Database,
) -> None:
    transport = httpx.ASGITransport(app=create_app(committed_database))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        async with committed_database.sessionmaker() as session:
            admin = await admin_headers(client, session)
        for n in range(3):
            created = await client.post(
                "/v1/admin/advisors",
                json={
                    "email": unique_email(f"advisor{n}"),
                    "password": PASSWORD,
                    "full_name": "顾问",
                },
                headers=admin,
            )
            assert created.status_code == 201, created.text
        buyers = [await buyer_headers(client) for _ in range(9)]
        responses = await asyncio.gather(*(apply(client, b) for b in buyers))
    assert [r.status_code for r in responses] == [201] * 9, [r.text for r in responses]

    async with committed_database.sessionmaker() as session:
        assigned = dict(
            (
                await session.execute(
                    select(col(AdvisorAssignment.advisor_id), func.count()).group_by(
                        col(AdvisorAssignment.advisor_id)
                    )
                )
            ).all()
        )
        loads = dict(
            (
                await session.execute(select(col(AdvisorLoad.advisor_id), col(AdvisorLoad.buyers)))
            ).all()
        )
    # Each advisor's load is exactly its buyers, and approvals deciding at once took different
    # advisors (SKIP LOCKED) rather than all the least loaded one.
    assert loads == assigned and sum(loads.values()) == 9
    assert len(loads) == 3, loads
