"""Collections in the demo: a loan collected automatically on its due date, and a platform-
guaranteed loan charged off with the guarantee's claim paid — both through ``autofin jobs run``'s
own steps, on two demo buyers of their own (their pre-approvals finance those loans).

Run after ``load_demo``; a second run adds nothing (a buyer who has a loan keeps it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from autofin.demo import DEMO_PASSWORD, apply_for
from autofin.jobs import run_all
from dealer_portal.vin import numbered
from marketplace.collections import service as collections_service
from marketplace.preapprovals.models import LockedOffer, Preapproval
from marketplace.products.models import ProductVersion
from marketplace.servicing import payment_methods, service
from marketplace.servicing.models import Loan
from pricing.payoff import add_months
from shared.db import Database
from shared.identity import repository as identity_repository
from shared.identity import service as identity_service
from shared.identity.models import Organization, UserKind
from shared.identity.principal import Principal
from shared.money import yuan
from shared.payments.gateway import PaymentGateway

ACTOR = Principal(role="admin")  # the demo books as the platform would at handover
# Ages differ from the other demo buyers': the sandbox derives each one's national ID from it.
AUTO_DEBIT_BUYER = ("sun.li@buyer.demo", "孙丽", "13600136004", 38)
GUARANTEED_BUYER = ("zhou.jie@buyer.demo", "周杰", "13500135005", 41)


async def _buyer_with_offer(
    session: AsyncSession, email: str, full_name: str, phone: str, age: int, lender_name: str
) -> tuple[Principal, LockedOffer | None, bool]:
    """The demo buyer (created once), the locked offer of ``lender_name`` on their
    pre-approval, and whether they already have a loan."""
    buyer = await identity_repository.user_by_email(session, email)
    if buyer is None:
        buyer = await identity_service.create_user(
            session, kind=UserKind.buyer, email=email, password=DEMO_PASSWORD,
            full_name=full_name, phone=phone,
        )  # fmt: skip
    principal = Principal(role="buyer", user_id=buyer.id)
    has_loan = (
        await session.execute(select(col(Loan.id)).where(col(Loan.buyer_id) == buyer.id))
    ).first() is not None
    if has_loan:
        return principal, None, True
    preapproval = await apply_for(session, principal, age=age, income=yuan(25_000))
    if preapproval is None:
        return principal, None, False
    offer = (
        await session.execute(
            select(LockedOffer)
            .join(Organization, col(Organization.id) == col(LockedOffer.lender_id))
            .where(
                col(LockedOffer.preapproval_id) == preapproval.id,
                col(Organization.name) == lender_name,
            )
            .order_by(col(LockedOffer.annual_rate).desc())  # the lender's standard product
            .limit(1)
        )
    ).scalar_one_or_none()
    return principal, offer, False


async def _book(
    session: AsyncSession, buyer: Principal, offer: LockedOffer, loan_date: date
) -> Loan:
    version = await session.get(ProductVersion, offer.product_version_id)
    preapproval = await session.get(Preapproval, offer.preapproval_id)
    assert version is not None and preapproval is not None
    loan = await service.book_loan(
        session,
        ACTOR,
        preapproval_id=offer.preapproval_id,
        offer_id=offer.id,
        product_version_id=offer.product_version_id,
        lender_id=offer.lender_id,
        buyer_id=buyer.uid,
        dealer_id=None,
        principal=min(offer.amount, yuan(80_000)),
        annual_rate=offer.annual_rate,
        term_months=12,
        method=version.method,
        upfront_fee=version.upfront_fee,
        grade=preapproval.grade,
        platform_guarantee=version.platform_guarantee,
        auto_fund=True,
        loan_date=loan_date,
        # A car backs one live loan: each demo buyer's BYD has its own serial number.
        vehicle={
            "vin": numbered(buyer.uid.int),
            "make": "BYD",
            "model": "Han",
            "price": yuan(120_000),
        },
    )
    await service.activate_at_handover(session, ACTOR, loan.id)
    return loan


async def load_collections_demo(
    database: Database,
    gateway: PaymentGateway,
    *,
    progress: Callable[[str], None],
    today: date,
) -> None:
    """Book the two demo loans, authorise the first one's automatic debit, and run the daily
    jobs as of today: the first instalment is debited, the guaranteed loan charged off."""
    progress("Collections: a loan debited automatically, a guaranteed loan's claim")
    async with database.sessionmaker() as session:
        auto_buyer, offer, has_loan = await _buyer_with_offer(
            session, *AUTO_DEBIT_BUYER, "招银汽车金融（演示）"
        )
        auto_loan = None
        if offer is not None:
            # The first instalment falls due today.
            auto_loan = await _book(session, auto_buyer, offer, add_months(today, -1))
        guaranteed_buyer, offer, _ = await _buyer_with_offer(
            session, *GUARANTEED_BUYER, "华夏消费金融（演示）"
        )
        if offer is not None:
            await _book(session, guaranteed_buyer, offer, today - timedelta(days=215))
        await session.commit()
        if auto_loan is not None:
            await payment_methods.save_payment_method(session, gateway, auto_buyer, "pm_card_visa")
            await collections_service.authorise(
                session, gateway, auto_buyer, auto_loan.id, payment_method=None, locale="zh_CN"
            )
            await session.commit()
    if auto_loan is None and offer is None:
        progress("  already loaded" if has_loan else "  no offers for the demo buyers")
        return
    done = await run_all(database, gateway, as_of=today, progress=lambda _: None)
    progress(
        f"  {done['debits_collected']} instalment debited automatically, "
        f"{done['loans_charged_off']} guaranteed loan charged off, its claim paid "
        f"(GET /v1/admin/guarantee); buyers {AUTO_DEBIT_BUYER[0]} and {GUARANTEED_BUYER[0]}"
    )
