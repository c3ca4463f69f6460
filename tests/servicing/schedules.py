"""A loan and its instalment rows built in memory, for the tests of the pure arithmetic."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from marketplace.servicing.models import Installment, InstallmentStatus, Loan, LoanStatus
from pricing import due_dates, quote_loan

LOAN_DATE = date(2026, 1, 15)
PRINCIPAL = 1_200_000
TERM = 12


def in_memory_loan() -> Loan:
    quote = quote_loan(PRINCIPAL, Decimal("0.12"), TERM)
    return Loan(
        preapproval_id=uuid.uuid4(),
        offer_id=uuid.uuid4(),
        product_version_id=uuid.uuid4(),
        lender_id=uuid.uuid4(),
        buyer_id=uuid.uuid4(),
        status=LoanStatus.active,
        principal=PRINCIPAL,
        annual_rate=Decimal("0.12"),
        apr=quote.apr,
        term_months=TERM,
        method=quote.method.value,
        upfront_fee=0,
        monthly_payment=quote.monthly_payment,
        grade="B",
        platform_guarantee=False,
        auto_fund=True,
        loan_date=LOAN_DATE,
        vehicle={},
    )


def in_memory_rows() -> list[Installment]:
    quote = quote_loan(PRINCIPAL, Decimal("0.12"), TERM)
    loan_id = uuid.uuid4()
    return [
        Installment(
            loan_id=loan_id,
            n=row.n,
            due_date=due,
            payment=row.payment,
            principal=row.principal,
            interest=row.interest,
            balance=row.balance,
            status=InstallmentStatus.due,
            paid_amount=0,
            late_fee=0,
            late_fee_paid=0,
        )
        for row, due in zip(quote.schedule, due_dates(LOAN_DATE, TERM), strict=True)
    ]
