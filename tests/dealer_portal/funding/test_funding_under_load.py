"""Funding under races and crashes, on a committed database with more requests in flight than
the pool holds: one funded loan, one disbursement, one transfer, whatever happens."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from autofin.main import create_app
from dealer_portal.funding import payouts
from dealer_portal.funding.models import Disbursement
from shared.audit import AuditEntry
from shared.db import Database, utcnow
from shared.payments.gateway import PaymentRequestRejected, Transfer
from shared.webhooks.models import WebhookEvent
from tests.dealer_portal.conftest import StripeLikeGateway, committed_admin
from tests.dealer_portal.funding.conftest import (
    RecordingTransfers,
    connect,
    fund,
    lot,
    ready_deal,
)
from tests.load import pool_of
from tests.stripe_fixtures import LocalStripe

POOL = 5


async def _count(database: Database, model: Any, *where: Any) -> int:
    async with database.sessionmaker() as session:
        result = await session.execute(select(func.count()).select_from(model).where(*where))
        return int(result.scalar_one())


@pytest.mark.parametrize("racers", [2, 20])
async def test_concurrent_funds_fund_once_with_one_disbursement_and_one_transfer(
    committed_database: Database, localstripe: LocalStripe, racers: int
) -> None:
    gateway, transfers = StripeLikeGateway(localstripe), RecordingTransfers()
    async with pool_of(committed_database, POOL) as small:
        app = create_app(small, payment_gateway=gateway, transfer_gateway=transfers)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            admin = await committed_admin(client, committed_database)
            s = await lot(client, admin)
            await connect(client, admin, s.dealer_id)
            deal = await ready_deal(client, s)
            answers = await asyncio.gather(*(fund(client, s, deal.loan_id) for _ in range(racers)))
            retry = await fund(client, s, deal.loan_id)
    await gateway.aclose()

    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 1, [a.text for a in answers]
    # The others lost the conditional update (or, past the admission queue, were shed).
    losers = [a for a in answers if a.status_code != 200]
    assert all(a.status_code in (409, 503) for a in losers), [a.text for a in losers]
    assert all(
        a.json()["error"]["code"] == "loan_not_pending_funding"
        for a in losers
        if a.status_code == 409
    )
    assert retry.status_code == 409
    assert retry.json()["error"]["code"] == "loan_not_pending_funding"
    [winner] = [a for a in answers if a.status_code == 200]
    assert winner.json()["disbursement"]["status"] == "paid"
    assert transfers.calls == 1 and len(transfers.made) == 1
    loan_id = uuid.UUID(deal.loan_id)
    assert await _count(committed_database, Disbursement) == 1
    funded = col(AuditEntry.action) == "loan.funded"
    assert await _count(committed_database, AuditEntry, funded) == 1
    event = (col(WebhookEvent.type) == "loan.funded") & (
        col(WebhookEvent.data)["loan_id"].astext == str(loan_id)
    )
    assert await _count(committed_database, WebhookEvent, event) == 1


class PoolWatchingTransfers(RecordingTransfers):
    """Notes how many pooled connections are checked out while "Stripe" makes the transfer."""

    def __init__(self, database: Database) -> None:
        super().__init__()
        self.database = database
        self.checked_out: list[int] = []

    async def create_transfer(self, **kwargs: Any) -> Transfer:
        self.checked_out.append(self.database.engine.pool.checkedout())  # type: ignore[attr-defined]
        return await super().create_transfer(**kwargs)


async def test_no_connection_is_held_while_the_dealer_is_paid(
    committed_database: Database, localstripe: LocalStripe
) -> None:
    gateway = StripeLikeGateway(localstripe)
    async with pool_of(committed_database, 2) as small:
        transfers = PoolWatchingTransfers(small)
        app = create_app(small, payment_gateway=gateway, transfer_gateway=transfers)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            admin = await committed_admin(client, committed_database)
            s = await lot(client, admin)
            await connect(client, admin, s.dealer_id)
            deal = await ready_deal(client, s)
            funded = await fund(client, s, deal.loan_id)
    await gateway.aclose()
    assert funded.status_code == 200, funded.text
    assert transfers.checked_out == [0]


async def test_a_disbursement_left_by_a_process_that_died_is_paid_once_by_the_jobs(
    committed_database: Database, localstripe: LocalStripe
) -> None:
    gateway, transfers = StripeLikeGateway(localstripe), RecordingTransfers()
    app = create_app(committed_database, payment_gateway=gateway, transfer_gateway=transfers)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        admin = await committed_admin(client, committed_database)
        s = await lot(client, admin)
        await connect(client, admin, s.dealer_id)
        deal = await ready_deal(client, s)
        transfers.die_after_transfer = True
        died = await fund(client, s, deal.loan_id)
        assert died.status_code == 500
        seen = await client.get(f"/v1/lender/loans/{deal.loan_id}/funding", headers=s.m.lender)
    await gateway.aclose()
    # The funding committed before Stripe was called: the loan is active, the money pending.
    assert seen.json()["loan_status"] == "active"
    assert seen.json()["disbursement"]["status"] == "pending"

    # While the dead request's claim lasts, nobody else pays it.
    assert await payouts.pay_pending(committed_database, transfers) == {
        "paid": 0,
        "failed": 0,
        "left": 0,
    }
    later = utcnow() + payouts.CLAIM_FOR + timedelta(seconds=1)
    runs = await asyncio.gather(
        payouts.pay_pending(committed_database, transfers, now=later),
        payouts.pay_pending(committed_database, transfers, now=later),
    )
    assert sorted(r["paid"] for r in runs) == [0, 1]
    assert transfers.calls == 2  # the dead request's and the jobs' — the same key
    assert len(transfers.made) == 1  # so Stripe made one transfer
    async with committed_database.sessionmaker() as session:
        [row] = (await session.execute(select(Disbursement))).scalars().all()
    assert row.status == "paid" and row.transfer_id == transfers.made[next(iter(transfers.made))].id


class RefusingTransfers(RecordingTransfers):
    async def create_transfer(self, **kwargs: Any) -> Transfer:
        raise PaymentRequestRejected()


async def test_a_transfer_stripe_refuses_is_recorded_failed(
    committed_database: Database, localstripe: LocalStripe
) -> None:
    gateway = StripeLikeGateway(localstripe)
    app = create_app(
        committed_database, payment_gateway=gateway, transfer_gateway=RefusingTransfers()
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        admin = await committed_admin(client, committed_database)
        s = await lot(client, admin)
        await connect(client, admin, s.dealer_id)
        deal = await ready_deal(client, s)
        funded = await fund(client, s, deal.loan_id)
    await gateway.aclose()
    assert funded.status_code == 200, funded.text
    assert funded.json()["loan"]["status"] == "active"
    assert funded.json()["disbursement"]["status"] == "failed"
    assert funded.json()["disbursement"]["failure_code"] == "payment_request_rejected"
