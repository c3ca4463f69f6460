"""Pre-approvals as their buyer sees them: the approval with its locked offers, and a car quoted
on them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import refusals
from marketplace.preapprovals import quoting, repository, service
from marketplace.preapprovals.models import LockedOffer, Preapproval
from marketplace.preapprovals.schemas import (
    CarGrade,
    OfferPublic,
    PreapprovalPublic,
    ProductNotOffered,
    QuoteResponse,
)
from pricing import StructureGrade


def preapproval_public(
    preapproval: Preapproval, offers: Sequence[Mapping[str, Any]], status: str
) -> PreapprovalPublic:
    """The approval as its buyer sees it; ``offers``: each offer's details, by rank."""
    return PreapprovalPublic(
        id=preapproval.id,
        code=preapproval.code,
        status=status,
        grade=preapproval.grade,
        credit_limit=preapproval.credit_limit,
        expires_at=preapproval.expires_at,
        created_at=preapproval.created_at,
        offers=[OfferPublic.model_validate(offer) for offer in offers],
    )


async def buyer_preapprovals(
    session: AsyncSession, buyer_id: uuid.UUID, now: datetime, *, limit: int, offset: int
) -> tuple[list[PreapprovalPublic], int]:
    """A page of the buyer's pre-approvals with their offers (two queries), and their number."""
    rows, total = await repository.list_for_buyer(session, buyer_id, limit=limit, offset=offset)
    offers = await repository.offers_for(session, [row.id for row in rows])
    items = [
        preapproval_public(row, details(offers[row.id]), service.effective_status(row, now))
        for row in rows
    ]
    return items, total


async def buyer_preapproval(
    session: AsyncSession, preapproval: Preapproval, status: str
) -> PreapprovalPublic:
    """One pre-approval with its offers, showing ``status``."""
    offers = await repository.offers(session, preapproval.id)
    return preapproval_public(preapproval, details(offers), status)


def details(offers: Sequence[LockedOffer]) -> list[dict[str, Any]]:
    """Locked offers as the API shows them."""
    return [offer.details for offer in offers]


def car_grade_public(grade: StructureGrade) -> CarGrade:
    return CarGrade(
        grade=grade.grade,
        preapproval_grade=grade.preapproval_grade,
        pd=grade.pd,
        summary=f"this car: {grade.grade}; your pre-approval: {grade.preapproval_grade}",
        summary_zh=f"本车：{grade.grade}；您的预审批：{grade.preapproval_grade}",
    )


async def quote_response(session: AsyncSession, quote: quoting.Quote) -> QuoteResponse:
    """A car quoted on the locked offers: those that fit, and why each other one does not."""
    figures = await refusals.rejection_params(session, [r for _, r in quote.not_offered])
    return QuoteResponse(
        offers=[
            OfferPublic.model_validate(service.offer_details(offer_id, offer))
            for offer_id, offer in quote.offers
        ],
        not_offered=[
            ProductNotOffered(
                offer_id=locked.id,
                lender=str(locked.details["lender"]),
                product=str(locked.details["product"]),
                code=rejection.code,
                message=refusals.rejection_message(rejection, figures[rejection]),
                field=rejection.field,
            )
            for locked, rejection in quote.not_offered
        ],
        grade=None if quote.grade is None else car_grade_public(quote.grade),
    )
