"""Loans: booking, funding and cancelling (the lifecycle's transitions).

Every status change is a conditional update (``WHERE status = <expected>``) with an audit entry;
services only flush. What buyers and lenders see of loans is in ``views``, the lender's
portfolio in ``portfolio``, the arithmetic on instalment rows in ``amounts``, the ledger's
check against the rows in ``ledger_check``; repayments live in ``repayments`` and
``crediting``, the daily delinquency pass in ``delinquency``.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.collateral import service as collateral
from marketplace.servicing import events as loan_events
from marketplace.servicing import repository
from marketplace.servicing.exceptions import (
    LoanAlreadyBooked,
)
from marketplace.servicing.models import (
    Loan,
    LoanStatus,
)
from pricing import due_dates, quote_loan
from shared import audit
from shared.db import utcnow
from shared.identity.principal import Principal
from shared.observability import event
from shared.writes import insert_unique


async def book_loan(
    session: AsyncSession,
    actor: Principal,
    *,
    preapproval_id: uuid.UUID,
    offer_id: uuid.UUID,
    product_version_id: uuid.UUID,
    lender_id: uuid.UUID,
    buyer_id: uuid.UUID,
    dealer_id: uuid.UUID | None,
    principal: int,
    annual_rate: Decimal,
    term_months: int,
    method: str,
    upfront_fee: int,
    grade: str,
    platform_guarantee: bool,
    auto_fund: bool,
    loan_date: date,
    vehicle: dict[str, Any],
    pd: Decimal | None = None,
) -> Loan:
    """Book a loan waiting for funding, with the calculator's schedule for its terms (first
    instalment due one month after ``loan_date``), its disbursement in the ledger and an audit
    entry. Raises ``LoanAlreadyBooked`` (409) if the pre-approval already has a live loan."""
    quote = quote_loan(principal, annual_rate, term_months, method, upfront_fee)
    loan = Loan(
        preapproval_id=preapproval_id,
        offer_id=offer_id,
        product_version_id=product_version_id,
        lender_id=lender_id,
        buyer_id=buyer_id,
        dealer_id=dealer_id,
        status=LoanStatus.pending_funding,
        principal=principal,
        annual_rate=annual_rate,
        apr=quote.apr,
        term_months=term_months,
        method=quote.method.value,
        upfront_fee=upfront_fee,
        monthly_payment=quote.monthly_payment,
        grade=grade,
        pd=pd,
        platform_guarantee=platform_guarantee,
        auto_fund=auto_fund,
        loan_date=loan_date,
        vehicle=vehicle,
    )
    if not await insert_unique(session, loan):
        raise LoanAlreadyBooked()
    await repository.book_schedule(
        session,
        loan.id,
        quote.schedule,
        due_dates(loan_date, term_months),
        disbursed=principal,
        loan_date=loan_date,
    )
    audit.record(
        session,
        actor=actor,
        action="loan.booked",
        subject_type="loan",
        subject_id=loan.id,
        after={
            "status": str(loan.status),
            "principal": principal,
            "annual_rate": str(annual_rate),
            "term_months": term_months,
            "lender_id": str(lender_id),
            "preapproval_id": str(preapproval_id),
            "dealer_id": str(dealer_id) if dealer_id else None,
        },
    )
    event("loan.booked", loan_id=str(loan.id), lender_id=str(lender_id))
    return loan


async def _transitioned(
    session: AsyncSession,
    actor: Principal | str,
    loan: Loan | None,
    *,
    action: str,
    before: LoanStatus,
) -> Loan | None:
    if loan is not None:
        audit.record(
            session,
            actor=actor,
            action=action,
            subject_type="loan",
            subject_id=loan.id,
            before={"status": str(before)},
            after={"status": str(loan.status)},
        )
        await session.flush()
        event(action, loan_id=str(loan.id))
    return loan


async def activate_at_handover(
    session: AsyncSession, actor: Principal | str, loan_id: uuid.UUID
) -> Loan | None:
    """Fund an auto-funded loan when its car is handed over (pending_funding → active); None
    when the product leaves funding to the lender or the loan is no longer pending."""
    loan = await repository.transition(
        session,
        loan_id,
        expected=LoanStatus.pending_funding,
        new=LoanStatus.active,
        where=[col(Loan.auto_fund).is_(True)],
        funded_at=utcnow(),
    )
    await loan_events.loan_funded(session, loan)
    await collateral.open_for_funded_loan(session, loan)
    return await _transitioned(
        session, actor, loan, action="loan.activated", before=LoanStatus.pending_funding
    )


async def cancel_before_handover(
    session: AsyncSession, actor: Principal | str, loan_id: uuid.UUID
) -> Loan | None:
    """Cancel a loan whose deal was cancelled before handover (pending_funding → cancelled);
    None if it is no longer pending."""
    loan = await repository.transition(
        session,
        loan_id,
        expected=LoanStatus.pending_funding,
        new=LoanStatus.cancelled,
        closed_at=utcnow(),
    )
    return await _transitioned(
        session, actor, loan, action="loan.cancelled", before=LoanStatus.pending_funding
    )
