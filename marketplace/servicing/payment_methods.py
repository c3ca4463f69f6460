"""The buyer's saved card: attached once to their Stripe customer, the default for repayments."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.servicing import repository
from marketplace.servicing.exceptions import PaymentMethodRejected
from shared import audit
from shared.identity.principal import Principal
from shared.observability import event
from shared.payments.gateway import PaymentGateway, PaymentRequestRejected, SavedPaymentMethod


async def save_payment_method(
    session: AsyncSession, gateway: PaymentGateway, buyer: Principal, payment_method_id: str
) -> SavedPaymentMethod:
    """Attach a card to the buyer's Stripe customer (created once) as the repayment default;
    a card Stripe refuses is 422 ``payment_method_rejected`` naming ``payment_method``.

    Stripe is called outside any transaction: the request's session commits before each call
    and each write commits on its own."""
    try:
        return await _save(session, gateway, buyer, payment_method_id)
    except PaymentRequestRejected:
        raise PaymentMethodRejected(field="payment_method") from None


async def _save(
    session: AsyncSession, gateway: PaymentGateway, buyer: Principal, payment_method_id: str
) -> SavedPaymentMethod:
    buyer_id = buyer.uid
    profile = await repository.get_profile(session, buyer_id)
    await session.commit()
    if profile is None:
        customer = await gateway.create_customer(
            idempotency_key=f"buyer-{buyer_id}-customer", metadata={"buyer_id": str(buyer_id)}
        )
        # A concurrent first save may have won; its customer is the buyer's from now on.
        profile = await repository.add_profile(session, buyer_id, customer.id)
        await session.commit()
    saved = await gateway.attach_payment_method(
        customer_id=profile.stripe_customer_id, payment_method_id=payment_method_id
    )
    await repository.set_default_card(
        session,
        buyer_id,
        payment_method_id=saved.id,
        card_brand=saved.card_brand,
        card_last4=saved.card_last4,
    )
    audit.record(
        session,
        actor=buyer,
        action="payment_method.saved",
        subject_type="buyer",
        subject_id=buyer_id,
        after={"payment_method_id": saved.id},
    )
    event("payment_method.saved", buyer_id=str(buyer_id))
    return saved


async def default_card(session: AsyncSession, buyer_id: uuid.UUID) -> SavedPaymentMethod | None:
    """The buyer's default card for repayments, if they saved one."""
    profile = await repository.get_profile(session, buyer_id)
    if profile is None or profile.payment_method_id is None:
        return None
    return SavedPaymentMethod(
        id=profile.payment_method_id,
        customer_id=profile.stripe_customer_id,
        card_brand=profile.card_brand,
        card_last4=profile.card_last4,
    )
