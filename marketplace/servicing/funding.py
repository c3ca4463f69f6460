"""A lender funds a loan that waited for it: the loan becomes active and its schedule starts on
the funding day. The gates that must hold first are the dealer portal's (``dealer_portal.funding``,
which calls this once they do)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.collateral import service as collateral
from marketplace.servicing import events as loan_events
from marketplace.servicing import repository
from marketplace.servicing.exceptions import LoanAutoFunded, LoanNotFound, LoanNotPendingFunding
from marketplace.servicing.models import Loan, LoanStatus
from pricing import due_dates
from shared import audit
from shared.identity.principal import Principal
from shared.observability import event


async def lender_pending_loan(session: AsyncSession, lender: Principal, loan_id: uuid.UUID) -> Loan:
    """The lender's loan that it funds itself and that still waits for funding. Another
    lender's loan is 404; an auto-funded or no longer pending loan is 409."""
    loan = await repository.lender_loan(session, loan_id, lender_id=lender.org_id)
    if loan is None:
        raise LoanNotFound()
    if loan.auto_fund:
        raise LoanAutoFunded()
    if loan.status != LoanStatus.pending_funding:
        raise LoanNotPendingFunding()
    return loan


async def mark_funded(
    session: AsyncSession, lender: Principal, loan_id: uuid.UUID, funded_at: datetime
) -> Loan:
    """pending_funding → active (a conditional update: of racing calls exactly one gets it, the
    others ``LoanNotPendingFunding``); the loan date and every instalment's due date move to the
    funding day, so the first instalment falls due a month after the money reached the dealer
    and interest runs from then. Audited, and ``loan.funded`` emitted once. Only flushes."""
    funded_on = funded_at.date()
    funded = await repository.transition(
        session,
        loan_id,
        expected=LoanStatus.pending_funding,
        new=LoanStatus.active,
        where=[col(Loan.auto_fund).is_(False), col(Loan.lender_id) == lender.org_id],
        funded_at=funded_at,
        loan_date=funded_on,
    )
    if funded is None:
        raise LoanNotPendingFunding()
    await repository.set_due_dates(session, loan_id, due_dates(funded_on, funded.term_months))
    audit.record(
        session,
        actor=lender,
        action="loan.funded",
        subject_type="loan",
        subject_id=loan_id,
        before={"status": LoanStatus.pending_funding.value},
        after={"status": LoanStatus.active.value, "loan_date": funded_on.isoformat()},
    )
    await loan_events.loan_funded(session, funded)
    await collateral.open_for_funded_loan(session, funded)
    event("loan.funded", loan_id=str(loan_id))
    return funded
