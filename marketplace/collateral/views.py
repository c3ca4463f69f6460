"""The collateral record as lenders, buyers and dealers see it: the loan's registration, its
lateness and its release."""

from __future__ import annotations

import uuid

from marketplace.collateral.models import LoanCollateral
from marketplace.collateral.schemas import CollateralPublic, ReleaseInstructions
from marketplace.collateral.service import is_overdue


def public(record: LoanCollateral, *, deal_id: uuid.UUID | None = None) -> CollateralPublic:
    instructions = record.release_instructions
    return CollateralPublic(
        loan_id=record.loan_id,
        deal_id=deal_id,
        lender_id=record.lender_id,
        dealer_id=record.dealer_id,
        status=record.status,
        funded_on=record.funded_on,
        due_on=record.due_on,
        overdue=is_overdue(record),
        overdue_at=record.overdue_at,
        registration_number=record.registration_number,
        authority=record.authority,
        registered_on=record.registered_on,
        registered_late=record.registered_on is not None and record.registered_on > record.due_on,
        document_id=record.document_id,
        release_instructions=ReleaseInstructions(**instructions) if instructions else None,
        release_issued_at=record.release_issued_at,
        released_on=record.released_on,
        release_document_id=record.release_document_id,
    )
