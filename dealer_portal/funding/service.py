"""Funding a loan the lender funds itself, the disbursement to the dealer, and what each side
sees of it.

The funding state machine (a loan on a product with ``auto_fund: false``)::

    pending_funding ──/fund: every gate holds (decision approved, down payment paid, and the
                      product's contract_signed / stipulations / insurance)──► active
                      + disbursement: pending ──transfer──► paid | failed
                                      not_connected (no Stripe account: paid off-platform)

    auto_fund (the default): pending_funding ──handover──► active + disbursement (the same),
    paid by the next ``autofin jobs run`` (``payouts.pay_pending``).

``/fund`` runs as atomic phases on the request's session (explained once in
``shared.idempotency``): (1) one transaction locks the deal row (so nothing the gates read
changes under it), checks the gates and that the car backs no other live loan, moves the loan
``pending_funding → active`` by a conditional update, re-dates its schedule from today, records
the disbursement already claimed for this request, audits it and emits ``loan.funded``; it
commits. (2) With no transaction open, the Stripe Transfer (see ``payouts``). (3) A short
transaction records its answer. Concurrent ``/fund`` calls queue on the deal row; the first
funds, the others find the loan active and get 409 ``loan_not_pending_funding`` — so does a
retry after success: the outcome is then read with ``GET /v1/lender/loans/{id}/funding``.
Exactly one disbursement and one transfer per loan.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal.decisions import repository as decision_repository
from dealer_portal.exceptions import DealNotFound
from dealer_portal.funding import gates as funding_gates
from dealer_portal.funding import payouts, repository
from dealer_portal.funding.exceptions import FundingGatesOpen, VinAlreadyFinanced
from dealer_portal.funding.models import Disbursement, DisbursementStatus, PayoutAccount
from dealer_portal.models import DealerDeal
from marketplace.servicing import funding as loan_funding
from marketplace.servicing import repository as loan_repository
from marketplace.servicing.exceptions import LoanNotFound
from marketplace.servicing.models import Loan, LoanStatus
from shared import audit
from shared.db import utcnow
from shared.identity.exceptions import OrganizationNotFound
from shared.identity.principal import Principal
from shared.observability import event
from shared.payments.transfers import TransferGateway


@dataclass(frozen=True)
class Funding:
    """A loan's way to funding as either side sees it."""

    deal: DealerDeal | None
    loan: Loan | None
    gates: list[funding_gates.Gate]
    disbursement: Disbursement | None

    @property
    def ready(self) -> bool:
        return (
            self.loan is not None
            and self.loan.status == LoanStatus.pending_funding
            and not self.loan.auto_fund
            and not funding_gates.open_gates(self.gates)
        )


async def _gates(
    session: AsyncSession, deal: DealerDeal | None, loan: Loan, now: datetime
) -> list[funding_gates.Gate]:
    if loan.auto_fund:
        return []
    version = await decision_repository.product_version(session, loan.product_version_id)
    lender = await repository.organization(session, loan.lender_id)
    stipulations = (
        (await decision_repository.stipulations_of(session, [deal.id]))[deal.id] if deal else []
    )
    return funding_gates.gates(
        deal,
        stipulations,
        version.funding_gates,
        funding_gates.Lender(lender.name, lender.uscc),
        now.date(),
    )


async def record_disbursement(
    session: AsyncSession,
    actor: Principal | str,
    loan: Loan,
    now: datetime,
    *,
    claim: bool,
) -> Disbursement | None:
    """The just-funded loan's disbursement to its dealer (None for a loan with no dealer):
    ``pending`` if the dealer has a connected account — claimed by the caller when ``claim``,
    who then pays it — else ``not_connected``. Only flushes."""
    if loan.dealer_id is None:
        return None
    version = await decision_repository.product_version(session, loan.product_version_id)
    destination = await repository.payout_account(session, dealer_id=loan.dealer_id)
    status = DisbursementStatus.pending if destination else DisbursementStatus.not_connected
    disbursement = Disbursement(
        loan_id=loan.id,
        dealer_id=loan.dealer_id,
        lender_id=loan.lender_id,
        principal=loan.principal,
        dealer_fee=version.dealer_fee,
        amount=max(loan.principal - version.dealer_fee, 0),
        status=status.value,
        destination=destination,
        claimed_until=now + payouts.CLAIM_FOR if claim and destination else None,
        created_at=now,
    )
    if not await repository.add_disbursement(session, disbursement):
        raise RuntimeError(f"loan {loan.id} was funded twice")  # the loan's update forbids it
    audit.record(
        session,
        actor=actor,
        action="disbursement.recorded",
        subject_type="loan",
        subject_id=loan.id,
        after={
            "amount": disbursement.amount,
            "dealer_fee": disbursement.dealer_fee,
            "status": disbursement.status,
        },
    )
    return disbursement


async def _fund_in_one_transaction(
    session: AsyncSession, lender: Principal, loan_id: uuid.UUID, now: datetime
) -> Disbursement:
    loan = await loan_funding.lender_pending_loan(session, lender, loan_id)
    deal = await repository.deal_of_loan(session, loan_id, lender_id=lender.org_id, for_update=True)
    still_open = funding_gates.open_gates(await _gates(session, deal, loan, now))
    if still_open:
        raise FundingGatesOpen(still_open)
    vin = loan.vehicle.get("vin")
    if vin and await loan_repository.live_loan_on_vin(session, str(vin), other_than=loan.id):
        raise VinAlreadyFinanced()
    funded = await loan_funding.mark_funded(session, lender, loan_id, now)
    disbursement = await record_disbursement(session, lender, funded, now, claim=True)
    assert disbursement is not None  # the gates held, so a dealer's deal booked this loan
    return disbursement


async def fund(
    session: AsyncSession, transfers: TransferGateway, lender: Principal, loan_id: uuid.UUID
) -> tuple[Loan, Disbursement]:
    """``POST /v1/lender/loans/{id}/fund`` (see the module docstring): the funded loan and its
    disbursement. Commits on ``session``; calls Stripe with no transaction open."""
    now = utcnow()
    disbursement = await _fund_in_one_transaction(session, lender, loan_id, now)
    await session.commit()
    event("loan.funding_committed", loan_id=str(loan_id))
    if disbursement.status == DisbursementStatus.pending.value:
        disbursement = await payouts.pay_claimed(session, transfers, disbursement)
    loan = await loan_repository.lender_loan(session, loan_id, lender_id=lender.org_id)
    if loan is None:
        raise LoanNotFound()
    return loan, disbursement


async def lender_funding(session: AsyncSession, lender: Principal, loan_id: uuid.UUID) -> Funding:
    """One of the lender's loans on its way to funding (another lender's is 404)."""
    loan = await loan_repository.lender_loan(session, loan_id, lender_id=lender.org_id)
    if loan is None:
        raise LoanNotFound()
    deal = await repository.deal_of_loan(session, loan_id, lender_id=lender.org_id)
    disbursement = await repository.disbursement_of(
        session, loan_id, repository.of_lender(lender.org_id)
    )
    return Funding(deal, loan, await _gates(session, deal, loan, utcnow()), disbursement)


async def dealer_funding(session: AsyncSession, dealer: Principal, deal_id: uuid.UUID) -> Funding:
    """One of the dealer's deals on its way to funding (another dealer's is 404); a deal not
    yet confirmed has no loan, so nothing to show but that."""
    deal = await decision_repository.deal_for_dealer(session, deal_id, dealer_id=dealer.org_id)
    if deal is None:
        raise DealNotFound()
    if deal.loan_id is None:
        return Funding(deal, None, [], None)
    loan = await loan_repository.lender_loan(session, deal.loan_id, lender_id=deal.lender_id)
    assert loan is not None
    disbursement = await repository.disbursement_of(
        session, loan.id, repository.of_dealer(dealer.org_id)
    )
    return Funding(deal, loan, await _gates(session, deal, loan, utcnow()), disbursement)


async def set_payout_account(
    session: AsyncSession, admin: Principal, dealer_id: uuid.UUID, stripe_account_id: str
) -> PayoutAccount:
    """Where the dealer's disbursements go from now on (those already recorded keep theirs)."""
    if not await repository.dealer_exists(session, dealer_id):
        raise OrganizationNotFound()
    account = await repository.set_payout_account(
        session,
        dealer_id=dealer_id,
        stripe_account_id=stripe_account_id,
        by=admin.actor,
        now=utcnow(),
    )
    audit.record(
        session,
        actor=admin,
        action="dealer.payout_account_set",
        subject_type="organization",
        subject_id=dealer_id,
        after={"stripe_account_id": stripe_account_id},
    )
    return account
