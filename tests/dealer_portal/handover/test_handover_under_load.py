"""Confirms with more requests in flight than the connection pool holds: each deal confirmed
exactly once, no request stalled or answered 5xx, and nothing held while Stripe answers."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from autofin.main import create_app
from dealer_portal.models import DealerDeal
from marketplace.servicing.models import Loan
from shared.audit import AuditEntry
from shared.db import Database
from tests.dealer_portal.conftest import (
    StripeLikeGateway,
    committed_admin,
    confirm,
    new_dealer,
)
from tests.factories import apply, direct_buyers, lender_with_product, unique_vin
from tests.load import pool_of
from tests.stripe_fixtures import LocalStripe

POOL = 5
DEALS = 40


async def _quoted_deals(
    client: httpx.AsyncClient, database: Database, count: int
) -> tuple[dict[str, str], list[str]]:
    """One dealer's staff and ``count`` quoted deals, each on its own buyer's approval."""
    admin = await committed_admin(client, database)
    await lender_with_product(client, admin)
    _, dealer = await new_dealer(client, admin)
    deals = []
    for headers, phone in await direct_buyers(database, count):
        applied = await apply(client, headers)
        assert applied.status_code == 201, applied.text
        quote = await client.post(
            "/v1/dealer/deals",
            json={
                "code": applied.json()["preapproval"]["code"],
                "verifier": phone[-4:],
                "vehicle": {
                    "vin": unique_vin(),
                    "make": "Volkswagen",
                    "model": "Passat",
                    "vehicle_type": "new",
                    "price": 15_000_000,
                },
                "down_payment": 5_000_000,
                "term_months": 36,
                "offer_id": applied.json()["preapproval"]["offers"][0]["offer_id"],
            },
            headers=dealer,
        )
        assert quote.status_code == 201, quote.text
        deals.append(str(quote.json()["id"]))
    return dealer, deals


async def _count(database: Database, model: Any, *where: Any) -> int:
    async with database.sessionmaker() as session:
        result = await session.execute(select(func.count()).select_from(model).where(*where))
        return int(result.scalar_one())


async def test_forty_confirms_through_a_pool_of_five_each_confirm_once(
    committed_database: Database, localstripe: LocalStripe
) -> None:
    gateway = StripeLikeGateway(localstripe)
    async with pool_of(committed_database, POOL) as small:
        app = create_app(small, payment_gateway=gateway)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            dealer, deals = await _quoted_deals(client, committed_database, DEALS)
            keys = {deal_id: f"confirm-{uuid.uuid4()}" for deal_id in deals}

            answers = await asyncio.gather(
                *(confirm(client, dealer, deal_id, keys[deal_id]) for deal_id in deals)
            )
            # A retry of every one of them, all at once: replayed, nothing done twice.
            replays = await asyncio.gather(
                *(confirm(client, dealer, deal_id, keys[deal_id]) for deal_id in deals)
            )
    await gateway.aclose()

    assert [a.status_code for a in answers] == [200] * DEALS, [
        a.text for a in answers if a.status_code != 200
    ]
    assert all(r.headers.get("Idempotent-Replayed") == "true" for r in replays)
    assert [r.json() for r in replays] == [a.json() for a in answers]
    assert gateway.created == DEALS
    assert await _count(committed_database, Loan) == DEALS
    assert await _count(committed_database, DealerDeal, col(DealerDeal.status) == "confirmed") == (
        DEALS
    )
    consumed = col(AuditEntry.action) == "preapproval.consumed"
    assert await _count(committed_database, AuditEntry, consumed) == DEALS


class PoolWatchingGateway(StripeLikeGateway):
    """Notes how many pooled connections were checked out whenever Stripe was called."""

    def __init__(self, localstripe: LocalStripe, database: Database) -> None:
        super().__init__(localstripe)
        self.database = database
        self.checked_out: list[int] = []

    def _watch(self) -> None:
        self.checked_out.append(self.database.engine.pool.checkedout())  # type: ignore[attr-defined]

    async def create_payment_intent(self, **kwargs: Any) -> Any:
        self._watch()
        return await super().create_payment_intent(**kwargs)

    async def cancel_payment_intent(self, payment_intent_id: str, **kwargs: Any) -> Any:
        self._watch()
        return await super().cancel_payment_intent(payment_intent_id, **kwargs)


async def test_no_connection_is_held_while_stripe_answers_a_confirm_or_a_cancel(
    committed_database: Database, localstripe: LocalStripe
) -> None:
    async with pool_of(committed_database, 2) as small:
        gateway = PoolWatchingGateway(localstripe, small)
        app = create_app(small, payment_gateway=gateway)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            dealer, [deal_id] = await _quoted_deals(client, committed_database, 1)
            confirmed = await confirm(client, dealer, deal_id)
            cancelled = await client.post(f"/v1/dealer/deals/{deal_id}/cancel", headers=dealer)
    await gateway.aclose()

    assert confirmed.status_code == 200, confirmed.text
    assert cancelled.status_code == 200, cancelled.text
    assert gateway.checked_out == [0, 0]  # the create, then the cancel: no connection held
