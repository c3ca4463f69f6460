"""Faults in the middle of the money flow: every flow finishes on retry (same Idempotency-Key)
or by the jobs run, and nothing is charged twice or lost.

- PostgreSQL connections terminated (``pg_terminate_backend``) while confirms are in flight;
- the Stripe emulator slow (answers after a pause) and stopped (nothing listening);
- the server killed between phases (the request task cancelled while Stripe is answering),
  then a fresh app on the same database: the retry and ``autofin jobs run`` finish it.

Each test has a committed database of its own (``committed_database``), so they run under
pytest-xdist; the emulator is the run's one (``localstripe``, a free port).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from autofin.jobs import run_reconciliation
from autofin.main import create_app
from dealer_portal.models import DealerDeal
from marketplace.servicing.models import Loan
from shared.db import Database, plain_url, utcnow
from shared.idempotency import models as idempotency_models
from tests.dealer_portal.conftest import (
    Approved,
    StripeLikeGateway,
    approved_buyer,
    committed_admin,
    confirm,
    pay,
    quoted_deal,
)
from tests.factories import fresh_phone
from tests.stripe_fixtures import LocalStripe

RETRIES = 50  # at 0.1 s apart: past the shortened lock timeout, under load


async def _finish(
    client: httpx.AsyncClient, approved: Approved, deal_id: str, key: str
) -> httpx.Response:
    """Retry the confirm with the same key until it gives its final answer."""
    response = await confirm(client, approved.dealer, deal_id, key)
    for _ in range(RETRIES):
        if response.status_code not in (409, 500, 503) or response.json()["error"]["code"] in (
            "approval_consumed",
        ):
            break
        await asyncio.sleep(0.1)
        response = await confirm(client, approved.dealer, deal_id, key)
    return response


async def _intents_for(localstripe: LocalStripe, deal_id: str) -> list[str]:
    return [
        i["id"]
        for i in await localstripe.list_payment_intents()
        if i["metadata"].get("deal_id") == deal_id
    ]


async def _loans(database: Database, preapproval_id: str) -> int:
    async with database.sessionmaker() as session:
        return int(
            (
                await session.execute(
                    select(func.count())
                    .select_from(Loan)
                    .where(col(Loan.preapproval_id) == uuid.UUID(preapproval_id))
                )
            ).scalar_one()
        )


async def _approved_deal(client: httpx.AsyncClient, admin: dict[str, str]) -> tuple[Approved, str]:
    phone = fresh_phone()
    approved = await approved_buyer(client, admin, phone=phone)
    return approved, await quoted_deal(client, approved, verifier=phone[-4:])


def _client(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_connections_terminated_mid_request_lose_and_double_nothing(
    committed_database: Database, localstripe: LocalStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A request whose connection is killed before it can release its key holds the key until
    # the lock times out (90 s in service); a second here, so the retries below see it end.
    monkeypatch.setattr(idempotency_models, "DEFAULT_LOCK_TIMEOUT", timedelta(seconds=1))
    gateway = StripeLikeGateway(localstripe)
    app = create_app(committed_database, payment_gateway=gateway)
    async with _client(app) as client:
        admin = await committed_admin(client, committed_database)
        arranged = [await _approved_deal(client, admin) for _ in range(3)]
        approvals = [approved for approved, _ in arranged]
        deals = [deal for _, deal in arranged]
        keys = [f"confirm-{uuid.uuid4()}" for _ in deals]
        url = plain_url(committed_database.engine.url.render_as_string(hide_password=False))
        killer = await asyncpg.connect(url)
        killed = 0
        stop = asyncio.Event()

        async def terminate() -> None:
            nonlocal killed
            while not stop.is_set():
                killed += len(
                    await killer.fetch(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                await asyncio.sleep(0.02)

        terminator = asyncio.create_task(terminate())
        try:
            first = await asyncio.gather(
                *(
                    confirm(client, approved.dealer, deal, key)
                    for approved, deal, key in zip(approvals, deals, keys, strict=True)
                )
            )
        finally:
            stop.set()
            await terminator
            await killer.close()
        finished = [
            await _finish(client, approved, deal, key)
            for approved, deal, key in zip(approvals, deals, keys, strict=True)
        ]
    await gateway.aclose()
    assert killed > 0
    assert all(r.status_code in (200, 409, 500, 503) for r in first), [r.text for r in first]
    assert [r.status_code for r in finished] == [200] * len(deals), [r.text for r in finished]
    for approved, deal, answer in zip(approvals, deals, finished, strict=True):
        assert await _intents_for(localstripe, deal) == [
            answer.json()["down_payment"]["payment_intent_id"]
        ]
        assert await _loans(committed_database, approved.preapproval["id"]) == 1


class SlowStripe(StripeLikeGateway):
    delay = 1.0

    async def create_payment_intent(self, **kwargs: Any) -> Any:
        await asyncio.sleep(self.delay)
        return await super().create_payment_intent(**kwargs)


async def test_a_slow_then_stopped_stripe_charges_once(
    committed_database: Database, localstripe: LocalStripe
) -> None:
    gateway = SlowStripe(localstripe)
    app = create_app(committed_database, payment_gateway=gateway)
    async with _client(app) as client:
        admin = await committed_admin(client, committed_database)
        approved, deal = await _approved_deal(client, admin)
        key = f"confirm-{uuid.uuid4()}"
        # Slow: the impatient dealer presses again while Stripe is still answering.
        racing = await asyncio.gather(
            *(confirm(client, approved.dealer, deal, key) for _ in range(3))
        )
        # Stopped: nothing listens; the confirm is refused as retryable, then resumes.
        other, other_deal = await _approved_deal(client, admin)
        other_key = f"confirm-{uuid.uuid4()}"
        real = gateway._api_base
        gateway._api_base, gateway._client, gateway._max_network_retries = (
            "http://127.0.0.1:9",
            None,
            0,
        )
        down = await confirm(client, other.dealer, other_deal, other_key)
        gateway._api_base, gateway._client = real, None
        resumed = await _finish(client, other, other_deal, other_key)
        replay = await _finish(client, approved, deal, key)
    await gateway.aclose()
    assert sorted(r.status_code for r in racing)[0] == 200 or replay.status_code == 200
    assert all(r.status_code in (200, 409) for r in racing), [r.text for r in racing]
    assert replay.status_code == 200
    assert down.status_code == 503 and resumed.status_code == 200, (down.text, resumed.text)
    assert gateway.created == 2
    assert len(await _intents_for(localstripe, deal)) == 1
    assert len(await _intents_for(localstripe, other_deal)) == 1


class DyingStripe(StripeLikeGateway):
    """Stripe answers, and the server dies before our code sees the answer."""

    entered: asyncio.Event

    async def create_payment_intent(self, **kwargs: Any) -> Any:
        intent = await super().create_payment_intent(**kwargs)
        self.entered.set()
        await asyncio.sleep(3600)  # killed here
        return intent


async def test_a_server_killed_between_phases_is_finished_by_the_retry_and_the_jobs(
    committed_database: Database, localstripe: LocalStripe
) -> None:
    dying = DyingStripe(localstripe)
    dying.entered = asyncio.Event()
    async with _client(create_app(committed_database, payment_gateway=dying)) as client:
        admin = await committed_admin(client, committed_database)
        approved, deal = await _approved_deal(client, admin)
        key = f"confirm-{uuid.uuid4()}"
        request = asyncio.create_task(confirm(client, approved.dealer, deal, key))
        await asyncio.wait_for(dying.entered.wait(), 30)
        request.cancel()  # the process is gone: nothing after Stripe's answer ran
        with contextlib.suppress(asyncio.CancelledError):
            await request
    await dying.aclose()

    # A new server process on the same database and the same Stripe.
    fresh = StripeLikeGateway(localstripe)
    fresh.answers = dying.answers  # Stripe replays the answer for a key it has seen
    async with _client(create_app(committed_database, payment_gateway=fresh)) as client:
        retried = await _finish(client, approved, deal, key)
        assert retried.status_code == 200, retried.text
        intent = retried.json()["down_payment"]["payment_intent_id"]
        await pay(localstripe, intent)  # the buyer pays; its webhook is lost
        async with committed_database.sessionmaker() as session, session.begin():
            await session.execute(  # … for longer than a webhook may take
                update(DealerDeal)
                .where(col(DealerDeal.id) == uuid.UUID(deal))
                .values(updated_at=utcnow() - timedelta(minutes=5))
            )
        settled = await run_reconciliation(committed_database, fresh, progress=lambda _: None)
        again = await run_reconciliation(committed_database, fresh, progress=lambda _: None)
        deal_after = await client.get(f"/v1/dealer/deals/{deal}", headers=approved.dealer)
    await fresh.aclose()
    assert dying.created + fresh.created == 1
    assert await _intents_for(localstripe, deal) == [intent]
    assert await _loans(committed_database, approved.preapproval["id"]) == 1
    assert settled["down_payments_settled"] == 1 and again["down_payments_settled"] == 0
    assert deal_after.json()["status"] == "handed_over", deal_after.text
    async with committed_database.sessionmaker() as session:
        statuses = (
            (
                await session.execute(
                    select(DealerDeal.status).where(col(DealerDeal.id) == uuid.UUID(deal))
                )
            )
            .scalars()
            .all()
        )
    assert list(statuses) == ["handed_over"]
