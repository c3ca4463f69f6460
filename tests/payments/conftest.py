"""Payments tests run against localstripe, with a handler that counts the events it applies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared import audit
from shared.payments.gateway import PaymentGateway
from shared.payments.webhooks import StripeEvent, webhook_handlers
from shared.settings import get_settings
from tests.stripe_fixtures import LocalStripe

TEST_PURPOSE = "webhook_test"
APPLIED = "test.webhook_applied"


@pytest.fixture(autouse=True)
def _stripe(stripe_settings: LocalStripe) -> LocalStripe:
    """Every payments test talks to the emulator (and the app's settings point at it)."""
    return stripe_settings


@pytest.fixture
async def gateway(stripe_settings: LocalStripe) -> AsyncIterator[PaymentGateway]:
    own = PaymentGateway.from_settings(get_settings())
    yield own
    await own.aclose()


async def count_applied(session: AsyncSession, event_id: str) -> int:
    """How many times the test handler applied ``event_id`` (it appends one audit entry)."""
    result = await session.execute(
        select(func.count())
        .select_from(audit.AuditEntry)
        .where(
            col(audit.AuditEntry.action) == APPLIED, col(audit.AuditEntry.subject_id) == event_id
        )
    )
    return int(result.scalar_one())


async def _append_audit_entry(session: AsyncSession, event: StripeEvent) -> None:
    audit.record(
        session,
        actor=audit.SYSTEM_ACTOR,
        action=APPLIED,
        subject_type="stripe_event",
        subject_id=event.id,
        after={"type": event.type, "object_id": event.object_id},
    )


@pytest.fixture
def counting_handler() -> Iterator[None]:
    """A trivial domain handler for ``payment_intent.succeeded`` with purpose ``webhook_test``."""
    webhook_handlers.register("payment_intent.succeeded", _append_audit_entry, purpose=TEST_PURPOSE)
    yield
    webhook_handlers.unregister("payment_intent.succeeded", purpose=TEST_PURPOSE)
