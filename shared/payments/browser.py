"""What a page needs to take a card with Stripe.js: the publishable key, where Stripe.js is
loaded from (Stripe's, or the local emulator's stand-in) and a SetupIntent's client secret.

Cards are taken the one way both Stripe.js and localstripe's stand-in support: the page mounts
the card element and calls ``stripe.confirmCardSetup(secret, {payment_method: {card}})``, which
hands the card to Stripe and gives back a ``pm_…``; our server then uses that payment method
(saves it as the buyer's card, or pays the down payment with it). Card numbers never reach us.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from shared.payments.gateway import PaymentGateway
from shared.settings import get_settings


class CardSetup(BaseModel):
    publishable_key: str
    stripe_js_url: str = Field(description="The Stripe.js the page loads.")
    setup_client_secret: str = Field(description="For stripe.confirmCardSetup.")


async def card_setup(
    gateway: PaymentGateway, *, idempotency_key: str, metadata: Mapping[str, str]
) -> CardSetup:
    """A SetupIntent for one card form (a retry with the same key gets the same one)."""
    settings = get_settings()
    secret = await gateway.create_setup_intent(idempotency_key=idempotency_key, metadata=metadata)
    return CardSetup(
        publishable_key=settings.stripe_publishable_key,
        stripe_js_url=settings.stripe_js_address,
        setup_client_secret=secret,
    )
