"""Delivery by ``autofin worker`` on a committed database: signed, at least once (exactly once
to a receiver that acknowledges), retried on schedule, never lost after a commit, given up and
the endpoint disabled after failing for the policy's day, and redelivered on request."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import func, select, text
from sqlmodel import col

from shared.db import Database, utcnow
from shared.webhooks import outbox, repository
from shared.webhooks.delivery import Deliverer
from shared.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import Headers
from tests.webhooks.conftest import FAST, StartWorker, eventually, register
from tests.webhooks.receiver import Receiver


async def emit_committed(
    database: Database, organization_id: uuid.UUID, event_type: str, **data: object
) -> str:
    async with database.sessionmaker() as session:
        event_id = await outbox.emit(session, [organization_id], event_type, data)
        await session.commit()
    return str(event_id)


async def delivery_states(database: Database) -> list[str]:
    async with database.sessionmaker() as session:
        return list(await session.scalars(select(col(WebhookDelivery.status))))


async def test_a_receiver_failing_twice_gets_each_event_once_after_retries_signed(
    api: httpx.AsyncClient,
    committed_database: Database,
    lender: tuple[uuid.UUID, Headers],
    receiver: Receiver,
    start_worker: StartWorker,
) -> None:
    lender_id, staff = lender
    receiver.answer = lambda n: 500 if n <= 2 else 200
    endpoint_id = await register(api, staff, receiver, ["loan.funded", "payment.succeeded"])
    await start_worker()

    funded = await emit_committed(committed_database, lender_id, "loan.funded", loan_id="L1")
    paid = await emit_committed(committed_database, lender_id, "payment.succeeded", amount=100)
    ignored = await emit_committed(committed_database, lender_id, "loan.paid_off", loan_id="L1")

    async def delivered() -> bool:
        return await delivery_states(committed_database) == ["succeeded", "succeeded"]

    await eventually(delivered, seen=receiver.received)
    assert sorted(receiver.accepted()) == sorted([funded, paid])
    for event_id in (funded, paid):
        requests = receiver.for_event(event_id)
        assert [r.status for r in requests] == [500, 500, 200]  # each accepted exactly once
        assert all(r.signature_valid for r in requests)
        gaps = [
            later.at - earlier.at for earlier, later in zip(requests, requests[1:], strict=False)
        ]
        assert all(gap >= 0.25 for gap in gaps), gaps  # the policy's 300 ms, not at once
    assert receiver.for_event(ignored) == []  # not subscribed
    first = receiver.for_event(funded)[0].event
    assert first["type"] == "loan.funded" and first["data"] == {"loan_id": "L1"}
    assert set(first) == {"id", "type", "created", "data"}

    log = await api.get(f"/v1/lender/webhook-endpoints/{endpoint_id}/deliveries", headers=staff)
    assert log.status_code == 200
    page = log.json()
    assert page["total"] == 2 and page["limit"] == 20 and page["offset"] == 0
    for delivery in page["items"]:
        assert delivery["status"] == "succeeded" and delivery["attempt_count"] == 3
        attempts = delivery["attempts"]
        assert [a["status_code"] for a in attempts] == [500, 500, 200]
        assert [a["error"] for a in attempts] == ["HTTP 500", "HTTP 500", None]
        assert all(a["duration_ms"] >= 0 for a in attempts)
    assert receiver.secret not in log.text and "secret" not in log.text
    # The queue's jobs are removed once done: nothing waits or is stuck.
    async with committed_database.sessionmaker() as session:
        left = await session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
        )
    assert left == 0


async def test_an_event_committed_while_no_worker_ran_is_delivered_when_one_starts(
    api: httpx.AsyncClient,
    committed_database: Database,
    lender: tuple[uuid.UUID, Headers],
    receiver: Receiver,
    start_worker: StartWorker,
) -> None:
    lender_id, staff = lender
    await register(api, staff, receiver, ["loan.delinquent", "loan.paid_off"])
    # The process that made the change died right after its commit: the outbox rows exist,
    # nothing was queued and nobody heard the notification.
    waiting = await emit_committed(committed_database, lender_id, "loan.delinquent", days=31)
    # And a worker died mid-attempt: it had leased this delivery and never recorded it.
    leased = await emit_committed(committed_database, lender_id, "loan.paid_off", loan_id="L2")
    async with committed_database.sessionmaker() as session:
        delivery_id = await session.scalar(
            select(col(WebhookDelivery.id)).where(
                col(WebhookDelivery.event_id) == uuid.UUID(leased)
            )
        )
        assert delivery_id is not None
        now = utcnow()
        taken = await repository.lease_delivery(
            session, delivery_id, now=now, until=now + timedelta(seconds=1)
        )
        assert taken is not None
        await session.commit()
    assert receiver.received == []

    await start_worker()

    async def delivered() -> bool:
        return await delivery_states(committed_database) == ["succeeded", "succeeded"]

    await eventually(delivered)
    assert sorted(receiver.accepted()) == sorted([waiting, leased])  # each once


async def test_an_endpoint_failing_for_a_day_is_disabled_and_redelivery_sends_again(
    api: httpx.AsyncClient,
    committed_database: Database,
    lender: tuple[uuid.UUID, Headers],
    receiver: Receiver,
    start_worker: StartWorker,
) -> None:
    lender_id, staff = lender
    receiver.answer = lambda n: 503
    endpoint_id = await register(api, staff, receiver, ["loan.funded"])
    # "A day" is 2 s here; retries come every 300 ms.
    await start_worker(
        policy=FAST.__class__(
            delays=FAST.delays,
            then_every=FAST.then_every,
            give_up_after=timedelta(seconds=2),
            lease=FAST.lease,
            timeout_seconds=5,
        )
    )
    event_id = await emit_committed(committed_database, lender_id, "loan.funded", loan_id="L3")

    async def disabled() -> bool:
        endpoint = await api.get(f"/v1/lender/webhook-endpoints/{endpoint_id}", headers=staff)
        return endpoint.json()["enabled"] is False

    await eventually(disabled)
    endpoint = (await api.get(f"/v1/lender/webhook-endpoints/{endpoint_id}", headers=staff)).json()
    assert endpoint["disabled_reason"] == "failing" and endpoint["failing_since"]
    tries = len(receiver.for_event(event_id))
    assert 2 <= tries <= 10  # retried for the "day" (fewer on a loaded machine), then given up
    log = await api.get(f"/v1/lender/webhook-endpoints/{endpoint_id}/deliveries", headers=staff)
    delivery = log.json()["items"][0]
    assert delivery["status"] == "failed" and delivery["next_attempt_at"] is None
    assert delivery["attempt_count"] == tries
    # Disabled endpoints get no new events.
    await emit_committed(committed_database, lender_id, "loan.funded", loan_id="L4")
    assert (
        await api.get(f"/v1/lender/webhook-endpoints/{endpoint_id}/deliveries", headers=staff)
    ).json()["total"] == 1

    redeliver = f"/v1/lender/webhook-endpoints/{endpoint_id}/deliveries/{delivery['id']}/redeliver"
    refused = await api.post(redeliver, headers=staff)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "webhook_endpoint_disabled"

    receiver.answer = lambda n: 200
    enabled = await api.patch(
        f"/v1/lender/webhook-endpoints/{endpoint_id}", json={"enabled": True}, headers=staff
    )
    assert enabled.status_code == 200 and enabled.json()["failing_since"] is None
    again = await api.post(redeliver, headers=staff)
    assert again.status_code == 202 and again.json()["status"] == "pending"

    async def accepted() -> bool:
        return receiver.accepted() == [event_id]

    await eventually(accepted, seen=receiver.received)
    # A delivered event sent again on request reaches the receiver a second time.
    assert (await api.post(redeliver, headers=staff)).status_code == 202

    async def twice() -> bool:
        return receiver.accepted() == [event_id, event_id]

    await eventually(twice, seen=receiver.received)

    async def recorded() -> bool:
        log = await api.get(f"/v1/lender/webhook-endpoints/{endpoint_id}/deliveries", headers=staff)
        item = log.json()["items"][0]
        return item["status"] == "succeeded" and item["attempt_count"] == tries + 2

    await eventually(recorded)
    async with committed_database.sessionmaker() as session:
        endpoint_row = await session.get(WebhookEndpoint, uuid.UUID(endpoint_id))
        deliveries = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    assert endpoint_row is not None and endpoint_row.enabled
    assert deliveries == 1


async def test_an_endpoint_deleted_while_an_attempt_is_out_is_left_alone(
    api: httpx.AsyncClient,
    committed_database: Database,
    lender: tuple[uuid.UUID, Headers],
    receiver: Receiver,
) -> None:
    lender_id, staff = lender
    endpoint_id = await register(api, staff, receiver, ["loan.funded"])
    await emit_committed(committed_database, lender_id, "loan.funded", loan_id="L5")

    async def deleted_meanwhile(request: httpx.Request) -> httpx.Response:
        gone = await api.delete(f"/v1/lender/webhook-endpoints/{endpoint_id}", headers=staff)
        assert gone.status_code == 204
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(deleted_meanwhile)) as http:
        deliverer = Deliverer(committed_database, http, FAST)
        queued: list[uuid.UUID] = []

        async def enqueue(delivery_id: uuid.UUID) -> None:
            queued.append(delivery_id)

        assert await deliverer.sweep(enqueue) == 1
        assert await deliverer.attempt(queued[0]) == "endpoint_deleted"
        assert await deliverer.attempt(queued[0]) == "skipped"
    assert await delivery_states(committed_database) == []
