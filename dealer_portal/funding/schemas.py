"""Funding: the gates, the disbursement to the dealer, and the dealer's payout account."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from marketplace.servicing.schemas import LoanDetail
from shared.schemas import RequestModel, ResponseModel


class GatePublic(ResponseModel):
    name: str = Field(
        description="decision | contract_signed | stipulations | down_payment | insurance"
    )
    satisfied: bool


class DisbursementPublic(ResponseModel):
    """What the dealer is paid: ``amount`` = ``principal`` − ``dealer_fee``; ``status``
    ``pending`` (the transfer is on its way), ``paid`` (``transfer_id``), ``not_connected``
    (the dealer has no Stripe account on the platform) or ``failed``."""

    amount: int
    principal: int
    dealer_fee: int
    status: str
    transfer_id: str | None
    failure_code: str | None
    created_at: datetime
    paid_at: datetime | None


class FundingPublic(ResponseModel):
    """Where a loan stands on its way to funding: each gate its product names (with the
    approval and the down payment, always required) and, once funded, the disbursement. An
    auto-funded loan has no gates: it is funded when the car is handed over."""

    deal_id: uuid.UUID | None
    loan_id: uuid.UUID | None
    loan_status: str | None
    auto_fund: bool
    ready: bool  # every gate satisfied and the loan waiting for funding
    gates: list[GatePublic]
    disbursement: DisbursementPublic | None


class FundedLoan(ResponseModel):
    loan: LoanDetail
    disbursement: DisbursementPublic


StripeAccountId = Annotated[
    str, StringConstraints(pattern=r"^acct_[A-Za-z0-9]{1,250}$", max_length=255)
]


class PayoutAccountRequest(RequestModel):
    stripe_account_id: StripeAccountId


class PayoutAccountPublic(ResponseModel):
    dealer_id: uuid.UUID
    stripe_account_id: str
    updated_at: datetime
