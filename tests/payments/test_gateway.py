"""The Stripe gateway against localstripe, through the real SDK."""

from __future__ import annotations

import socket
import uuid

import pytest

from shared.payments.gateway import (
    PaymentDeclined,
    PaymentGateway,
    PaymentProviderUnavailable,
    PaymentRequestRejected,
)
from tests.stripe_fixtures import LocalStripe


async def test_a_saved_card_is_charged_off_session_and_refunded(
    gateway: PaymentGateway, localstripe: LocalStripe
) -> None:
    loan_id = uuid.uuid4()
    customer = await gateway.create_customer(
        idempotency_key=f"buyer-{loan_id}-customer", metadata={"buyer_id": str(loan_id)}
    )
    card = await gateway.attach_payment_method(
        customer_id=customer.id,
        payment_method_id=await localstripe.create_card_payment_method("4242424242424242"),
    )
    assert (card.customer_id, card.card_last4) == (customer.id, "4242")

    # No payment method passed: the customer's default card is charged.
    intent = await gateway.create_payment_intent(
        amount=358_312,
        idempotency_key=f"loan-{loan_id}-installment-1",
        metadata={"purpose": "repayment", "loan_id": str(loan_id)},
        customer_id=customer.id,
        payment_method_id=card.id,
        confirm=True,
        off_session=True,
    )
    assert intent.succeeded and intent.amount == 358_312 and intent.currency == "cny"
    assert (await gateway.retrieve_payment_intent(intent.id)).status == "succeeded"

    partial = await gateway.create_refund(
        payment_intent_id=intent.id, idempotency_key=f"loan-{loan_id}-refund-1", amount=8_312
    )
    rest = await gateway.create_refund(
        payment_intent_id=intent.id, idempotency_key=f"loan-{loan_id}-refund-2"
    )
    assert (partial.amount, partial.payment_intent_id, partial.status) == (
        8_312,
        intent.id,
        "succeeded",
    )
    assert rest.amount == 358_312  # localstripe refunds the full charge again when asked


async def test_a_down_payment_intent_waits_for_the_buyer_and_hides_its_client_secret(
    gateway: PaymentGateway,
) -> None:
    intent = await gateway.create_payment_intent(
        amount=5_000_000,
        idempotency_key=f"deal-{uuid.uuid4()}-down-payment",
        metadata={"purpose": "down_payment"},
    )
    assert intent.status == "requires_payment_method"
    assert intent.client_secret and intent.client_secret.startswith(intent.id)
    assert intent.client_secret not in repr(intent)


async def test_a_declined_card_is_refused_as_payment_declined(
    gateway: PaymentGateway, localstripe: LocalStripe
) -> None:
    customer = await gateway.create_customer(idempotency_key="c-declined", metadata={})
    card = await gateway.attach_payment_method(
        customer_id=customer.id,
        payment_method_id=await localstripe.create_card_payment_method("4000000000000341"),
    )
    with pytest.raises(PaymentDeclined) as refused:
        await gateway.create_payment_intent(
            amount=100_00,
            idempotency_key=f"loan-{uuid.uuid4()}-installment-1",
            metadata={"purpose": "repayment"},
            customer_id=customer.id,
            payment_method_id=card.id,
            confirm=True,
            off_session=True,
        )
    assert refused.value.status_code == 402
    assert "4000" not in refused.value.message


async def test_refunding_an_unknown_payment_is_rejected(gateway: PaymentGateway) -> None:
    with pytest.raises(PaymentRequestRejected):
        await gateway.create_refund(payment_intent_id="pi_missing", idempotency_key="r-missing")


async def test_an_unreachable_stripe_is_payment_provider_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    unreachable = PaymentGateway(
        api_key="sk_test_unreachable",
        api_base=f"http://127.0.0.1:{closed_port}",
        webhook_secret="whsec_unused",
        max_network_retries=0,
    )
    try:
        with pytest.raises(PaymentProviderUnavailable) as refused:
            await unreachable.create_customer(idempotency_key="c-1", metadata={})
        assert refused.value.status_code == 503
    finally:
        await unreachable.aclose()


async def test_amounts_must_be_positive_whole_fen(gateway: PaymentGateway) -> None:
    for amount in (0, -1, 10.5, True):
        with pytest.raises(ValueError, match="fen"):
            await gateway.create_payment_intent(
                amount=amount,  # type: ignore[arg-type]
                idempotency_key="x",
                metadata={},
            )
