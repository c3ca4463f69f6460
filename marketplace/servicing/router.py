"""The buyer's loans and repayments, and the lender's loans and portfolio."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from marketplace.collections import guarantee
from marketplace.monitoring import service as monitoring_service
from marketplace.policy import PolicyDep
from marketplace.servicing import (
    payment_methods,
    portfolio,
    repayments,
    views,
)
from marketplace.servicing.exceptions import (
    AmountExceedsPayoff,
    LoanNotFound,
    LoanNotRepayable,
    NoPaymentMethod,
    PaymentInProgress,
    PaymentMethodRejected,
    PayoffDateInvalid,
    TooManyInstallments,
)
from marketplace.servicing.schemas import (
    GradePerformance,
    LoanDetail,
    LoanSummary,
    PaymentCreate,
    PaymentMethodCreate,
    PaymentMethodPublic,
    PaymentPublic,
    PayoffPublic,
    Portfolio,
)
from shared.db import ReadSessionDep, SessionDep, today, utcnow
from shared.errors import error_responses
from shared.idempotency import (
    IdempotencyKeyDep,
    IdempotencyKeyInUse,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
)
from shared.identity.principal import BuyerPrincipal, LenderPrincipal, ReadOnlyBuyerPrincipal
from shared.pagination import Page, PageDep
from shared.payments.browser import CardSetup, card_setup
from shared.payments.gateway import (
    PaymentDeclined,
    PaymentGatewayDep,
    PaymentProviderUnavailable,
)

buyer_router = APIRouter(prefix="/v1/buyer", tags=["buyer"])
lender_router = APIRouter(prefix="/v1/lender", tags=["lender"])


# -- buyer -----------------------------------------------------------------------------------


@buyer_router.get("/loans")
async def list_my_loans(
    buyer: BuyerPrincipal, session: SessionDep, page: PageDep
) -> Page[LoanSummary]:
    """The buyer's loans, newest first."""
    found, total = await views.list_buyer_loans(
        session, buyer, limit=page.limit, offset=page.offset
    )
    items = [views.summary(view) for view in await views.details(session, found)]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@buyer_router.get("/loans/{loan_id}", responses=error_responses(LoanNotFound))
async def get_my_loan(
    loan_id: uuid.UUID, buyer: ReadOnlyBuyerPrincipal, session: ReadSessionDep
) -> LoanDetail:
    """One of the buyer's loans with its repayment schedule."""
    return await views.buyer_loan_detail(session, buyer, loan_id)


@buyer_router.get(
    "/loans/{loan_id}/payoff", responses=error_responses(LoanNotFound, PayoffDateInvalid)
)
async def get_payoff(
    loan_id: uuid.UUID,
    buyer: BuyerPrincipal,
    session: SessionDep,
    on: Annotated[date | None, Query(description="The payoff date (default today).")] = None,
) -> PayoffPublic:
    """What closes the loan on a date: unpaid principal, interest due and accrued, fees."""
    quote = await views.buyer_payoff(session, buyer, loan_id, on or today())
    return PayoffPublic(
        on=quote.on,
        amount=quote.amount,
        principal=quote.principal,
        interest=quote.interest,
        fees=quote.fees,
    )


@buyer_router.get("/payment-methods")
async def list_payment_methods(
    buyer: BuyerPrincipal, session: SessionDep, page: PageDep
) -> Page[PaymentMethodPublic]:
    """The buyer's saved card for repayments (none, or the default one)."""
    card = await payment_methods.default_card(session, buyer.uid)
    saved = []
    if card is not None:
        saved.append(
            PaymentMethodPublic(
                payment_method_id=card.id, card_brand=card.card_brand, card_last4=card.card_last4
            )
        )
    items = saved[page.offset : page.offset + page.limit]
    return Page(items=items, total=len(saved), limit=page.limit, offset=page.offset)


@buyer_router.post(
    "/card-setups",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(IdempotencyKeyRequired, PaymentProviderUnavailable),
)
async def start_card_setup(
    buyer: BuyerPrincipal, gateway: PaymentGatewayDep, idempotency_key: IdempotencyKeyDep
) -> CardSetup:
    """What the page needs to take a card with Stripe.js (``stripe.confirmCardSetup``); the
    ``pm_…`` it gives back is then saved with ``POST /v1/buyer/payment-methods``. The same
    ``Idempotency-Key`` (one per card form) gets the same SetupIntent from Stripe."""
    return await card_setup(
        gateway,
        idempotency_key=f"buyer-{buyer.uid}-card-setup-{idempotency_key}",
        metadata={"purpose": "buyer_card", "buyer_id": str(buyer.uid)},
    )


@buyer_router.post(
    "/payment-methods",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(PaymentMethodRejected, PaymentProviderUnavailable),
)
async def save_payment_method(
    body: PaymentMethodCreate,
    buyer: BuyerPrincipal,
    session: SessionDep,
    gateway: PaymentGatewayDep,
) -> PaymentMethodPublic:
    """Save a card as the buyer's default for repayments (only its brand and last 4 are kept)."""
    saved = await payment_methods.save_payment_method(session, gateway, buyer, body.payment_method)
    return PaymentMethodPublic(
        payment_method_id=saved.id, card_brand=saved.card_brand, card_last4=saved.card_last4
    )


@buyer_router.post(
    "/loans/{loan_id}/payments",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentPublic,
    responses=error_responses(
        IdempotencyKeyRequired,
        LoanNotFound,
        LoanNotRepayable,
        NoPaymentMethod,
        PaymentInProgress,
        IdempotencyKeyInUse,
        AmountExceedsPayoff,
        TooManyInstallments,
        IdempotencyKeyReused,
        PaymentDeclined,
        PaymentProviderUnavailable,
    ),
)
async def pay(
    loan_id: uuid.UUID,
    body: PaymentCreate,
    request: Request,
    buyer: BuyerPrincipal,
    session: SessionDep,
    gateway: PaymentGatewayDep,
    idempotency_key: IdempotencyKeyDep,
) -> JSONResponse:
    """Charge the saved card for the next ``installments`` or the payoff; credited when
    Stripe confirms it. Retries with the same ``Idempotency-Key`` replay the first answer."""
    response, replayed = await repayments.request_payment(
        session,
        gateway,
        buyer,
        loan_id,
        repayments.PaymentRequest(installments=body.installments, payoff=bool(body.payoff)),
        idempotency_key=idempotency_key,
        path=request.url.path,
    )
    return response.to_response(replayed=replayed)


# -- lender ----------------------------------------------------------------------------------


@lender_router.get("/loans")
async def list_lender_loans(
    lender: LenderPrincipal, session: SessionDep, page: PageDep
) -> Page[LoanSummary]:
    """Loans booked on the lender's products, newest first."""
    found, total = await views.list_lender_loans(
        session, lender, limit=page.limit, offset=page.offset
    )
    items = [views.summary(view) for view in await views.details(session, found)]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@lender_router.get("/portfolio")
async def get_portfolio(
    lender: LenderPrincipal, session: SessionDep, policy: PolicyDep
) -> Portfolio:
    """Repayment performance by grade, with the platform's guaranteed exposure (and the claims
    its guarantee paid, and the reserve behind it), and the default the platform predicted for
    each grade beside the default realised."""
    grades = await portfolio.portfolio(session, lender)
    reserve = await guarantee.lender_figures(session, lender)
    today = utcnow().date()
    risk = await monitoring_service.portfolio_risk(
        session, lender_id=lender.org_id, as_of=today, policy=policy
    )
    unbooked = monitoring_service.PortfolioRisk(Decimal(0), 0, None)
    count = sum(g.count for g in grades)
    charged_off = sum(g.charged_off for g in grades)
    return Portfolio(
        grades=[
            GradePerformance(
                grade=g.grade,
                count=g.count,
                active=g.active,
                paid_off=g.paid_off,
                charged_off=g.charged_off,
                outstanding_balance=g.outstanding_balance,
                buckets=g.buckets or {},
                default_rate=g.default_rate,
                guaranteed_outstanding=g.guaranteed_outstanding,
                predicted_default_rate=risk.get(g.grade, unbooked).predicted_default_rate,
                loans_a_year_on_book=risk.get(g.grade, unbooked).loans_a_year_on_book,
                realised_default_rate=risk.get(g.grade, unbooked).realised_default_rate,
            )
            for g in grades
        ],
        count=count,
        outstanding_balance=sum(g.outstanding_balance for g in grades),
        charged_off=charged_off,
        default_rate=(Decimal(charged_off) / count).quantize(Decimal("0.0001"))
        if count
        else Decimal(0),
        platform_guarantee_exposure=sum(g.guaranteed_outstanding for g in grades),
        guarantee_claims_count=reserve.claims_count,
        guarantee_claims_paid=reserve.claims_paid,
        guarantee_reserve=reserve.reserve,
    )
