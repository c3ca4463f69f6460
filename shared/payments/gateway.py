"""The one gateway for every Stripe call: typed, async, idempotent, with errors as domain errors.

Every method goes through the official SDK's ``stripe.StripeClient`` with a pinned API version,
the ``*_async`` methods and the SDK's HTTPX client, so the event loop is never blocked. Callers get
small frozen dataclasses back, never raw ``StripeObject``s.

**Idempotency keys.** Every money-moving call takes an ``idempotency_key`` that the *caller*
builds from our own ids, never a random one (``deal-{deal_id}-down-payment``,
``loan-payment-{payment_id}``, ``deal-{deal_id}-refund``): a retry of a flow that died after
Stripe answered repeats the call with the same key, and Stripe (which keeps keys for 24 hours)
replays its first answer instead of charging again. How the flows use that is explained once, in
``shared.idempotency``. localstripe (tests, demo) ignores ``Idempotency-Key``: there, only our
own idempotency records protect against duplicates.

Errors: a declined card is ``payment_declined`` (402, Stripe's safe decline message only); an
unreachable or failing Stripe is ``payment_provider_unavailable`` (503, retry later). Nothing
here logs card data, client secrets or keys: only object ids, codes and Stripe request ids.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, cast
from urllib.parse import urlparse

import stripe
from fastapi import Depends, Request

from shared.errors import BadRequest, Conflict, DomainError, Unprocessable
from shared.observability import event
from shared.settings import Settings

# Pinned: the SDK's types describe this version; upgrading is a deliberate, tested change.
STRIPE_API_VERSION = "2026-10-28.endive"
WEBHOOK_TOLERANCE_SECONDS = 300
CURRENCY = "cny"


class PaymentDeclined(DomainError):
    status_code = 402
    code = "payment_declined"
    message = "The card was declined."


class PaymentProviderUnavailable(DomainError):
    status_code = 503
    code = "payment_provider_unavailable"
    message = "The payment provider is unavailable; try again shortly."


class PaymentRequestRejected(Unprocessable):
    code = "payment_request_rejected"
    message = "The payment provider refused this request."


class PaymentIdempotencyConflict(Conflict):
    code = "payment_idempotency_conflict"
    message = "A different payment request was already made for this operation."


class InvalidSignature(BadRequest):
    code = "invalid_signature"
    message = "The webhook signature is missing, invalid or too old."


@dataclass(frozen=True)
class Customer:
    id: str


@dataclass(frozen=True)
class SavedPaymentMethod:
    """A card saved on a customer; brand and last 4 digits are safe to show, nothing more."""

    id: str
    customer_id: str
    card_brand: str | None
    card_last4: str | None


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str
    amount: int
    currency: str
    customer_id: str | None
    # For the buyer's browser only (Stripe.js confirms with it); kept out of reprs and logs.
    client_secret: str | None = field(repr=False)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class Transfer:
    """Money sent from the platform's balance to a connected account (a dealer's)."""

    id: str
    amount: int
    destination: str


@dataclass(frozen=True)
class Refund:
    id: str
    payment_intent_id: str
    amount: int
    status: str | None


def _id_of(value: Any) -> str | None:
    """An expandable Stripe field as an id (a string, or an object with an ``id``)."""
    if value is None or isinstance(value, str):
        return value
    identifier = getattr(value, "id", None)
    return identifier if isinstance(identifier, str) else None


def _payment_intent(intent: stripe.PaymentIntent) -> PaymentIntent:
    return PaymentIntent(
        id=intent.id,
        status=str(intent.status),
        amount=int(intent.amount),
        currency=str(intent.currency),
        customer_id=_id_of(intent.customer),
        client_secret=intent.client_secret,
    )


class PaymentGateway:
    """Stripe, as the rest of Autofin sees it. One instance per app; safe to share."""

    def __init__(
        self,
        *,
        api_key: str,
        api_base: str,
        webhook_secret: str,
        max_network_retries: int = 2,
        timeout_seconds: float = 20.0,
    ) -> None:
        self._api_key = api_key
        self._api_base = api_base.rstrip("/")
        # localstripe only ever listens on loopback (``autofin.stripe_emulator``); Stripe never.
        self._emulated = urlparse(self._api_base).hostname in {"127.0.0.1", "localhost", "::1"}
        self._webhook_secret = webhook_secret
        self._max_network_retries = max_network_retries
        self._timeout_seconds = timeout_seconds
        self._client: stripe.StripeClient | None = None
        self._http_client: stripe.HTTPXClient | None = None

    def __repr__(self) -> str:  # never show the key
        return f"PaymentGateway(api_base={self._api_base!r})"

    @property
    def emulated(self) -> bool:
        """Whether this is the local emulator (tests, the demo), not Stripe."""
        return self._emulated

    @classmethod
    def from_settings(cls, settings: Settings) -> PaymentGateway:
        return cls(
            api_key=settings.stripe_api_key,
            api_base=settings.stripe_api_base,
            webhook_secret=settings.stripe_webhook_secret,
        )

    @property
    def client(self) -> stripe.StripeClient:
        # Built on first use: an app that never pays (most tests) opens no HTTP client.
        if self._client is None:
            self._http_client = stripe.HTTPXClient(timeout=self._timeout_seconds)
            self._client = stripe.StripeClient(
                self._api_key,
                stripe_version=STRIPE_API_VERSION,
                base_addresses={"api": self._api_base},
                http_client=self._http_client,
                max_network_retries=self._max_network_retries,
            )
        return self._client

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.close_async()  # type: ignore[no-untyped-call]
        self._client = self._http_client = None

    # -- customers and saved cards ---------------------------------------------------------

    async def create_customer(
        self, *, idempotency_key: str, metadata: Mapping[str, str]
    ) -> Customer:
        """Create a Stripe customer; ``metadata`` carries our ids (never names or phones)."""
        with _stripe_errors("customer.create"):
            customer = await self.client.v1.customers.create_async(
                {"metadata": dict(metadata)}, {"idempotency_key": idempotency_key}
            )
        return Customer(id=customer.id)

    async def attach_payment_method(
        self, *, customer_id: str, payment_method_id: str
    ) -> SavedPaymentMethod:
        """Attach a card to the customer and make it their default for off-session charges."""
        with _stripe_errors("payment_method.attach"):
            attached = await self.client.v1.payment_methods.attach_async(
                payment_method_id, {"customer": customer_id}
            )
            # Stripe's test ids (pm_card_visa) become a new payment method when attached.
            await self.client.v1.customers.update_async(
                customer_id, {"invoice_settings": {"default_payment_method": attached.id}}
            )
        card = attached.card if attached.type == "card" else None
        return SavedPaymentMethod(
            id=attached.id,
            customer_id=customer_id,
            card_brand=card.brand if card else None,
            card_last4=card.last4 if card else None,
        )

    # -- payments ----------------------------------------------------------------------------

    async def create_payment_intent(
        self,
        *,
        amount: int,
        idempotency_key: str,
        metadata: Mapping[str, str],
        currency: str = CURRENCY,
        customer_id: str | None = None,
        payment_method_id: str | None = None,
        confirm: bool = False,
        off_session: bool = False,
    ) -> PaymentIntent:
        """Create a card PaymentIntent for ``amount`` fen.

        Unconfirmed (the default), the buyer confirms it in the browser with its
        ``client_secret``. With ``confirm=True, off_session=True`` it charges the saved card now.
        ``metadata["purpose"]`` routes its webhooks to the domain that created it.
        """
        require_positive_fen(amount)
        if off_session and not confirm:
            raise ValueError("an off-session payment must be confirmed at creation")
        # The pinned version's types drop payment_method_types, but Stripe still accepts it and
        # localstripe needs it (it rejects automatic_payment_methods).
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency,
            "payment_method_types": ["card"],
            "metadata": dict(metadata),
        }
        if customer_id:
            params["customer"] = customer_id
        if payment_method_id:
            params["payment_method"] = payment_method_id
        if confirm:
            params["confirm"] = True
        if off_session:
            params["off_session"] = True
        with _stripe_errors("payment_intent.create"):
            intent = await self.client.v1.payment_intents.create_async(
                cast("stripe.params.PaymentIntentCreateParams", params),
                {"idempotency_key": idempotency_key},
            )
        event("payment_intent.created", payment_intent_id=intent.id, status=intent.status)
        return _payment_intent(intent)

    async def confirm_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str, off_session: bool = False
    ) -> PaymentIntent:
        """Charge a PaymentIntent created with a customer's saved card. Creating it unconfirmed,
        storing its id, then confirming it means we know of every intent that can take money
        (a card needing authentication comes back ``requires_action``: not charged).

        ``off_session``: the buyer is not present (an automatic debit on a mandate). The local
        emulator refuses every confirm parameter, so on a loopback address it is not sent."""
        params: dict[str, Any] = {}
        if off_session and not self._emulated:
            params["off_session"] = True
        with _stripe_errors("payment_intent.confirm"):
            intent = await self.client.v1.payment_intents.confirm_async(
                payment_intent_id,
                cast("stripe.params.PaymentIntentConfirmParams", params),
                {"idempotency_key": idempotency_key},
            )
        event("payment_intent.confirmed", payment_intent_id=intent.id, status=intent.status)
        return _payment_intent(intent)

    async def pay_with_card(
        self, payment_intent_id: str, *, payment_method_id: str, idempotency_key: str
    ) -> PaymentIntent:
        """Pay an unconfirmed PaymentIntent with a card the buyer's browser gave Stripe.js (a
        ``pm_…``): set it on the intent, then confirm. A card needing authentication comes back
        ``requires_action`` and the browser finishes it with the intent's client secret."""
        with _stripe_errors("payment_intent.pay"):
            await self.client.v1.payment_intents.update_async(
                payment_intent_id,
                {"payment_method": payment_method_id},
                {"idempotency_key": f"{idempotency_key}-method"},
            )
            intent = await self.client.v1.payment_intents.confirm_async(
                payment_intent_id, options={"idempotency_key": idempotency_key}
            )
        event("payment_intent.confirmed", payment_intent_id=intent.id, status=intent.status)
        return _payment_intent(intent)

    async def create_setup_intent(
        self, *, idempotency_key: str, metadata: Mapping[str, str]
    ) -> str:
        """A SetupIntent the browser confirms with Stripe.js's card element
        (``confirmCardSetup``), turning the card into a ``pm_…``; its client secret."""
        params: dict[str, Any] = {"payment_method_types": ["card"], "metadata": dict(metadata)}
        with _stripe_errors("setup_intent.create"):
            setup = await self.client.v1.setup_intents.create_async(
                cast("stripe.params.SetupIntentCreateParams", params),
                {"idempotency_key": idempotency_key},
            )
        event("setup_intent.created", setup_intent_id=setup.id)
        if setup.client_secret is None:
            raise PaymentProviderUnavailable()
        return setup.client_secret

    async def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        with _stripe_errors("payment_intent.retrieve"):
            intent = await self.client.v1.payment_intents.retrieve_async(payment_intent_id)
        return _payment_intent(intent)

    async def cancel_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str
    ) -> PaymentIntent:
        """Cancel an unpaid PaymentIntent so it can never be paid; PaymentRequestRejected when
        it is no longer cancellable (it succeeded meanwhile: refund it instead)."""
        with _stripe_errors("payment_intent.cancel"):
            intent = await self.client.v1.payment_intents.cancel_async(
                payment_intent_id, options={"idempotency_key": idempotency_key}
            )
        event("payment_intent.canceled", payment_intent_id=intent.id, status=intent.status)
        return _payment_intent(intent)

    async def create_refund(
        self, *, payment_intent_id: str, idempotency_key: str, amount: int | None = None
    ) -> Refund:
        """Refund a payment, in full or ``amount`` fen of it."""
        params: stripe.params.RefundCreateParams = {"payment_intent": payment_intent_id}
        if amount is not None:
            require_positive_fen(amount, what="a refund amount")
            params["amount"] = amount
        with _stripe_errors("refund.create"):
            refund = await self.client.v1.refunds.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        event("refund.created", refund_id=refund.id, payment_intent_id=payment_intent_id)
        return Refund(
            id=refund.id,
            payment_intent_id=_id_of(refund.payment_intent) or payment_intent_id,
            amount=int(refund.amount),
            status=refund.status,
        )

    # -- transfers to connected accounts ----------------------------------------------------

    async def create_transfer(
        self,
        *,
        amount: int,
        destination: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: Mapping[str, str],
    ) -> Transfer:
        """Send ``amount`` fen to the connected account ``destination``, once per
        ``transfer_group``: Stripe replays the first answer to a repeated idempotency key for
        24 hours, and a transfer already made in the group is returned after that too."""
        require_positive_fen(amount)
        with _stripe_errors("transfer.create"):
            made = await self.client.v1.transfers.list_async(
                {"transfer_group": transfer_group, "limit": 1}
            )
            if made.data:
                found = made.data[0]
            else:
                found = await self.client.v1.transfers.create_async(
                    {
                        "amount": amount,
                        "currency": CURRENCY,
                        "destination": destination,
                        "transfer_group": transfer_group,
                        "metadata": dict(metadata),
                    },
                    {"idempotency_key": idempotency_key},
                )
        event("transfer.created", transfer_id=found.id, transfer_group=transfer_group)
        return Transfer(id=found.id, amount=int(found.amount), destination=destination)

    # -- webhooks ------------------------------------------------------------------------------

    def verify_webhook(self, payload: bytes, signature_header: str | None) -> dict[str, Any]:
        """The event in ``payload`` if Stripe signed it with our secret within 5 minutes of now,
        either way: the SDK only refuses old timestamps, so a signature dated in the future
        (a clock skewed far ahead, or one minted to be replayed later) is refused here."""
        if not signature_header:
            raise InvalidSignature()
        signed_at = _signature_timestamp(signature_header)
        if signed_at is None or abs(time.time() - signed_at) > WEBHOOK_TOLERANCE_SECONDS:
            raise InvalidSignature()
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"),
                signature_header,
                self._webhook_secret,
                WEBHOOK_TOLERANCE_SECONDS,
            )
            parsed = json.loads(payload)
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
            raise InvalidSignature() from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("id"), str):
            raise InvalidSignature(variant="not_an_event")
        if not isinstance(parsed.get("type"), str):
            raise InvalidSignature(variant="not_an_event")
        return parsed


def require_positive_fen(amount: int, *, what: str = "amount") -> None:
    """Refuse (ValueError) an amount that is not a positive whole number of fen: never a
    bool, a float or zero reaches Stripe, which would read them its own way."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"{what} must be a positive integer number of fen")


def _signature_timestamp(signature_header: str) -> int | None:
    """The ``t=`` of a ``Stripe-Signature`` header, or None when it has none or several."""
    stamps = [
        value.strip()
        for key, _, value in (part.partition("=") for part in signature_header.split(","))
        if key.strip() == "t"
    ]
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit():
        return None
    return int(stamps[0])


@contextmanager
def _stripe_errors(operation: str) -> Iterator[None]:
    """Turn the SDK's exceptions into our domain errors, logging ids and codes only."""
    try:
        yield
    except stripe.StripeError as exc:
        event(
            "stripe.error",
            operation=operation,
            error=type(exc).__name__,
            code=exc.code,
            http_status=exc.http_status,
            stripe_request_id=exc.request_id,
        )
        if isinstance(exc, stripe.CardError):
            # Stripe's user_message for a decline is written to be shown to the cardholder.
            # Its English is kept as the fallback; the catalogue has its common codes.
            raise PaymentDeclined(exc.user_message or None, variant=exc.code or "card") from None
        if isinstance(exc, stripe.IdempotencyError):
            raise PaymentIdempotencyConflict() from None
        if isinstance(exc, stripe.InvalidRequestError):
            raise PaymentRequestRejected() from None
        # Connection failures, rate limits, Stripe's 5xx and our own misconfigured key alike:
        # nothing the caller did wrong, and a retry with the same idempotency key is safe.
        raise PaymentProviderUnavailable() from None


def get_payment_gateway(request: Request) -> PaymentGateway:
    gateway: PaymentGateway = request.app.state.payment_gateway
    return gateway


PaymentGatewayDep = Annotated[PaymentGateway, Depends(get_payment_gateway)]
