"""``POST /v1/lender/loans/{id}/fund`` and ``GET …/funding`` (the lender), ``GET
/v1/dealer/deals/{id}/funding`` (the dealer), ``PUT /v1/admin/dealers/{id}/payout-account``."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from dealer_portal.exceptions import DealNotFound
from dealer_portal.funding import service
from dealer_portal.funding.exceptions import FundingGatesOpen, VinAlreadyFinanced
from dealer_portal.funding.models import Disbursement
from dealer_portal.funding.schemas import (
    DisbursementPublic,
    FundedLoan,
    FundingPublic,
    GatePublic,
    PayoutAccountPublic,
    PayoutAccountRequest,
)
from marketplace.servicing.exceptions import LoanAutoFunded, LoanNotFound, LoanNotPendingFunding
from marketplace.servicing.views import loan_detail
from shared.db import SessionDep
from shared.errors import error_responses
from shared.identity.exceptions import OrganizationNotFound
from shared.identity.principal import AdminPrincipal, DealerPrincipal, LenderPrincipal
from shared.payments.transfers import TransferGatewayDep

lender_router = APIRouter(prefix="/v1/lender", tags=["lender"])
dealer_router = APIRouter(prefix="/v1/dealer", tags=["dealer"])
admin_router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _disbursement(found: Disbursement | None) -> DisbursementPublic | None:
    return None if found is None else DisbursementPublic.model_validate(found)


def _funding(found: service.Funding) -> FundingPublic:
    return FundingPublic(
        deal_id=found.deal.id if found.deal else None,
        loan_id=found.loan.id if found.loan else None,
        loan_status=str(found.loan.status) if found.loan else None,
        auto_fund=found.loan.auto_fund if found.loan else False,
        ready=found.ready,
        gates=[GatePublic(name=g.name, satisfied=g.satisfied) for g in found.gates],
        disbursement=_disbursement(found.disbursement),
    )


@lender_router.post(
    "/loans/{loan_id}/fund",
    responses=error_responses(
        LoanNotFound, LoanAutoFunded, LoanNotPendingFunding, FundingGatesOpen, VinAlreadyFinanced
    ),
)
async def fund_loan(
    loan_id: uuid.UUID,
    lender: LenderPrincipal,
    session: SessionDep,
    transfers: TransferGatewayDep,
) -> FundedLoan:
    """Fund a pending loan on a product that does not fund automatically at handover, once
    every funding gate holds (else 409 `funding_gates_open` with `error.gates`): the loan
    becomes active, its schedule starts today, and the dealer is paid the principal less the
    product's dealer fee. Funding twice is 409 `loan_not_pending_funding`."""
    loan, disbursement = await service.fund(session, transfers, lender, loan_id)
    answer = _disbursement(disbursement)
    assert answer is not None
    return FundedLoan(loan=await loan_detail(session, loan), disbursement=answer)


@lender_router.get("/loans/{loan_id}/funding", responses=error_responses(LoanNotFound))
async def get_loan_funding(
    loan_id: uuid.UUID, lender: LenderPrincipal, session: SessionDep
) -> FundingPublic:
    """The loan's funding gates (each satisfied or not) and, once funded, its disbursement."""
    return _funding(await service.lender_funding(session, lender, loan_id))


@dealer_router.get("/deals/{deal_id}/funding", responses=error_responses(DealNotFound))
async def get_deal_funding(
    deal_id: uuid.UUID, dealer: DealerPrincipal, session: SessionDep
) -> FundingPublic:
    """What the deal's funding waits for and, once funded, what the dealer is paid."""
    return _funding(await service.dealer_funding(session, dealer, deal_id))


@admin_router.put(
    "/dealers/{dealer_id}/payout-account", responses=error_responses(OrganizationNotFound)
)
async def set_payout_account(
    dealer_id: uuid.UUID, body: PayoutAccountRequest, admin: AdminPrincipal, session: SessionDep
) -> PayoutAccountPublic:
    """The dealer's Stripe connected account (`acct_…`): disbursements recorded from now on
    are transferred there. Only the platform sets it, so nobody can redirect a dealer's money
    by signing in as its staff."""
    account = await service.set_payout_account(session, admin, dealer_id, body.stripe_account_id)
    return PayoutAccountPublic.model_validate(account)


routers = (lender_router, dealer_router, admin_router)
