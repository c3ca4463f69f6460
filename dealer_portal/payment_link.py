"""The down payment's payment page, and the link to it the dealer's screen shows as a QR code.

The link is ``/pay#<client secret>``: the PaymentIntent's client secret travels in the URL's
fragment, which browsers never send to a server, so it reaches no access log. Holding it is
what entitles a phone to see what is being paid (amount, dealer, car, the buyer's masked name)
and to pay it, as with Stripe's own payment pages; the secret is checked against Stripe's
record of the intent before anything is shown. The card goes to Stripe from the page
(``shared.payments.browser``); the webhook, as for any down payment, hands the car over.

Reads commit before Stripe is called, so no connection is held while waiting on it.
"""

from __future__ import annotations

import hmac
import uuid

from fastapi import APIRouter, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import repository
from dealer_portal.exceptions import DealNotFound, DownPaymentNotDue, PaymentLinkNotFound
from dealer_portal.models import DealerDeal, DealStatus, DownPaymentStatus
from dealer_portal.schemas import (
    CLIENT_SECRET,
    DownPaymentPage,
    DownPaymentPageRequest,
    DownPaymentPaid,
    DownPaymentPayRequest,
    PaymentLinkPublic,
)
from shared.db import SessionDep
from shared.errors import error_responses
from shared.identity.principal import DealerPrincipal, Principal
from shared.payments.browser import card_setup
from shared.payments.gateway import (
    PaymentDeclined,
    PaymentGateway,
    PaymentGatewayDep,
    PaymentProviderUnavailable,
    PaymentRequestRejected,
)
from shared.schemas import mask_name
from shared.web.qr import svg_data_uri

PAYABLE = (DownPaymentStatus.requested, DownPaymentStatus.failed)


def _intent_id(client_secret: str) -> str:
    matched = CLIENT_SECRET.match(client_secret)
    if matched is None:
        raise PaymentLinkNotFound()
    return matched.group(1)


async def _proven_deal(
    session: AsyncSession, gateway: PaymentGateway, client_secret: str
) -> DealerDeal:
    """The deal this secret pays for, once Stripe's intent carries exactly this secret."""
    deal = await repository.deal_paid_by(session, payment_intent_id=_intent_id(client_secret))
    await session.commit()  # nothing held while Stripe answers
    if deal is None:
        raise PaymentLinkNotFound()
    intent = await gateway.retrieve_payment_intent(_intent_id(client_secret))
    if intent.client_secret is None or not hmac.compare_digest(
        intent.client_secret.encode(), client_secret.encode()
    ):
        raise PaymentLinkNotFound()
    return deal


def _payable(deal: DealerDeal) -> bool:
    return deal.status == DealStatus.confirmed and deal.down_payment_status in PAYABLE


async def link_for(
    session: AsyncSession,
    gateway: PaymentGateway,
    dealer: Principal,
    deal_id: uuid.UUID,
    base_url: str,
) -> PaymentLinkPublic:
    deal = await repository.get_deal(session, deal_id, dealer_id=dealer.org_id)
    await session.commit()
    if deal is None:
        raise DealNotFound()
    if deal.payment_intent_id is None or not _payable(deal):
        raise DownPaymentNotDue()
    intent = await gateway.retrieve_payment_intent(deal.payment_intent_id)
    if intent.client_secret is None:
        raise PaymentProviderUnavailable()
    url = f"{base_url.rstrip('/')}/pay#{intent.client_secret}"
    return PaymentLinkPublic(
        url=url,
        qr_svg=svg_data_uri(url),
        amount=deal.down_payment_amount,
        down_payment_status=deal.down_payment_status,
    )


async def page_for(
    session: AsyncSession, gateway: PaymentGateway, client_secret: str
) -> DownPaymentPage:
    deal = await _proven_deal(session, gateway, client_secret)
    names = await repository.buyer_names(session, [deal.buyer_id])
    dealer = await repository.organization_name(session, deal.dealer_id)
    await session.commit()
    card = None
    if _payable(deal):
        # One per page view: no money moves on a SetupIntent.
        card = await card_setup(
            gateway,
            idempotency_key=f"deal-{deal.id}-card-setup-{uuid.uuid4()}",
            metadata={"purpose": "down_payment_card", "deal_id": str(deal.id)},
        )
    return DownPaymentPage(
        amount=deal.down_payment_amount,
        dealer=dealer,
        vehicle_make=deal.make,
        vehicle_model=deal.model,
        buyer_name_masked=mask_name(names.get(deal.buyer_id, "")),
        deal_status=deal.status,
        down_payment_status=deal.down_payment_status,
        failure_message=deal.down_payment_failure_message,
        card=card,
    )


async def pay(
    session: AsyncSession, gateway: PaymentGateway, body: DownPaymentPayRequest
) -> DownPaymentPaid:
    """Pay with the card the page gave Stripe. Stripe's intent succeeds at most once, so a
    second tap can never charge twice: it is refused by Stripe (the intent is no longer
    awaiting confirmation) or here (the webhook already recorded the payment)."""
    deal = await _proven_deal(session, gateway, body.client_secret)
    if not _payable(deal) or deal.payment_intent_id is None:
        raise DownPaymentNotDue()
    try:
        intent = await gateway.pay_with_card(
            deal.payment_intent_id,
            payment_method_id=body.payment_method,
            idempotency_key=f"deal-{deal.id}-down-payment-{body.payment_method}",
        )
    except PaymentRequestRejected:
        raise DownPaymentNotDue(variant="not_confirmable") from None
    return DownPaymentPaid(status=intent.status)


router = APIRouter(tags=["payment page"])


@router.get(
    "/v1/dealer/deals/{deal_id}/payment-link",
    responses=error_responses(DealNotFound, DownPaymentNotDue, PaymentProviderUnavailable),
)
async def payment_link(
    deal_id: uuid.UUID,
    request: Request,
    dealer: DealerPrincipal,
    session: SessionDep,
    gateway: PaymentGatewayDep,
) -> PaymentLinkPublic:
    """The down payment's payment page for the buyer's phone (a link and its QR code), while
    the down payment is due (requested, or failed and payable again)."""
    return await link_for(session, gateway, dealer, deal_id, str(request.base_url))


@router.post(
    "/v1/pay/down-payment",
    responses=error_responses(PaymentLinkNotFound, PaymentProviderUnavailable),
)
async def down_payment_page(
    body: DownPaymentPageRequest, session: SessionDep, gateway: PaymentGatewayDep
) -> DownPaymentPage:
    """What the payment page shows (no login: the intent's client secret is the proof)."""
    return await page_for(session, gateway, body.client_secret)


@router.post(
    "/v1/pay/down-payment/confirm",
    status_code=status.HTTP_200_OK,
    responses=error_responses(
        PaymentLinkNotFound, DownPaymentNotDue, PaymentDeclined, PaymentProviderUnavailable
    ),
)
async def pay_down_payment(
    body: DownPaymentPayRequest, session: SessionDep, gateway: PaymentGatewayDep
) -> DownPaymentPaid:
    """Pay the down payment with a card Stripe.js collected (``pm_…``); ``requires_action``
    means the page finishes it with ``stripe.confirmCardPayment(client_secret)``. The car is
    handed over when Stripe's webhook reports the payment."""
    return await pay(session, gateway, body)
