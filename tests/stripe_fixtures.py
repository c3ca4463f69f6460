"""The local Stripe emulator for the test run, and helpers that play Stripe's part in tests.

``localstripe`` runs in a child process on 127.0.0.1 (a free port), started once per run when a
test asks for it; the ``AUTOFIN_STRIPE_*`` settings point at it while it runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import stripe

from autofin import stripe_emulator
from shared.settings import get_settings

TEST_STRIPE_API_KEY = "sk_test_autofin_localstripe"
TEST_WEBHOOK_SECRET = "whsec_autofin_localstripe_test"


@dataclass(frozen=True)
class LocalStripe:
    """A running emulator: its base address and the secrets our settings use for it."""

    base_url: str
    api_key: str = TEST_STRIPE_API_KEY
    webhook_secret: str = TEST_WEBHOOK_SECRET

    def client(self) -> stripe.StripeClient:
        """A raw SDK client, for playing the browser's or Stripe's part (never app code)."""
        return stripe.StripeClient(
            self.api_key,
            base_addresses={"api": self.base_url},
            http_client=stripe.HTTPXClient(),
            max_network_retries=0,
        )

    async def create_card_payment_method(self, number: str = "4242424242424242") -> str:
        """What Stripe.js does in the buyer's browser: turn a test card into a ``pm_…``."""
        client = self.client()
        payment_method = await client.v1.payment_methods.create_async(
            {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            }
        )
        return payment_method.id

    async def list_payment_intents(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            response = await http.get(
                "/v1/payment_intents",
                params={"limit": 100},
                headers={"Authorization": f"Bearer {self.api_key}"},
            )
        response.raise_for_status()
        intents: list[dict[str, Any]] = response.json()["data"]
        return intents

    async def register_webhook(self, name: str, url: str, events: list[str]) -> None:
        """Have the emulator deliver ``events`` to ``url``, signed with our webhook secret."""
        await asyncio.to_thread(
            stripe_emulator.register_webhook, self.base_url, name, url, self.webhook_secret, events
        )


def stripe_signature(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header value, computed the way Stripe signs webhooks."""
    at = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def stripe_event(
    event_type: str, data_object: dict[str, Any], *, event_id: str | None = None
) -> dict[str, Any]:
    """An event as Stripe sends it."""
    return {
        "id": event_id or f"evt_test_{os.urandom(8).hex()}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": data_object},
    }


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    """localstripe on 127.0.0.1, started once for the run and stopped at its end."""
    process, base_url = stripe_emulator.start()
    try:
        yield LocalStripe(base_url=base_url)
    finally:
        stripe_emulator.stop(process)


@pytest.fixture
def stripe_settings(localstripe: LocalStripe) -> Iterator[LocalStripe]:
    """Point ``AUTOFIN_STRIPE_*`` at the emulator for one test (apps built in it use it).

    Per test, not per run: other tests (production refuses placeholder keys) must see the
    environment as it was.
    """
    overrides = {
        "AUTOFIN_STRIPE_API_BASE": localstripe.base_url,
        "AUTOFIN_STRIPE_API_KEY": localstripe.api_key,
        "AUTOFIN_STRIPE_WEBHOOK_SECRET": localstripe.webhook_secret,
    }
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    get_settings.cache_clear()
    try:
        yield localstripe
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def dump(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
