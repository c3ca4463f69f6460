"""Quoting a car on a pre-approval's locked offers: the grade the car's structure earns with
the card that graded the approval, and each locked offer priced at it or refused with the rule
the deal fails. Quoting never locks the approval (see ``service``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.applications import repository as application_repository
from marketplace.applications.profile import applicant_of, facts_of
from marketplace.preapprovals import repository
from marketplace.preapprovals.exceptions import OfferNotFound
from marketplace.preapprovals.models import LockedOffer, Preapproval
from marketplace.preapprovals.service import ensure_active
from marketplace.products import service as product_service
from marketplace.scorecards import repository as scorecard_repository
from marketplace.scorecards import service as scorecard_service
from marketplace.scorecards.exceptions import ScorecardNotFound
from pricing import (
    Deal,
    LoanStructure,
    Offer,
    Rejection,
    RiskPolicy,
    StructureGrade,
    evaluate_product_for_deal,
    grade_for_structure,
)
from pricing.ranking import rank_offers


@dataclass(frozen=True)
class Quote:
    """Offers that fit a car, ranked, and the locked offers that do not, with the rule; and
    the grade the car earns beside the pre-approval's."""

    offers: Sequence[tuple[uuid.UUID, Offer]]
    not_offered: Sequence[tuple[LockedOffer, Rejection]]
    grade: StructureGrade | None


async def car_grade(
    session: AsyncSession, preapproval: Preapproval, deal: Deal, policy: RiskPolicy
) -> StructureGrade | None:
    """The grade and PD this car's structure earns with the card that graded the pre-approval
    (never worse than the pre-approval's); the pre-approval's own when the card does not price
    the structure; None for an approval without a recorded score."""
    application = await application_repository.get_for_platform(session, preapproval.application_id)
    if application is None or application.pd is None or application.score is None:
        return None
    report, sha = None, None
    if application.structure_assumed is not None and application.scorecard_version is not None:
        if application.bureau_report_id is not None:
            report = await application_repository.report(session, application.bureau_report_id)
        sha = await scorecard_repository.fingerprint(session, application.scorecard_version)
    grading = repository.Grading(application, report, sha)
    return await _graded(session, preapproval, grading, deal, policy)


async def _graded(
    session: AsyncSession,
    preapproval: Preapproval,
    grading: repository.Grading,
    deal: Deal,
    policy: RiskPolicy,
) -> StructureGrade | None:
    """``car_grade`` from what ``grading`` read."""
    application = grading.application
    if application is None or application.pd is None or application.score is None:
        return None
    if application.structure_assumed is None:  # the card bins no structure: nothing changes
        return StructureGrade(
            preapproval.grade, application.pd, application.score, preapproval.grade, False
        )
    if application.scorecard_version is None or application.bureau_report_id is None:
        return None
    try:
        card = await scorecard_service.card_of(
            session, application.scorecard_version, grading.scorecard_sha256
        )
    except ScorecardNotFound:
        return None
    if grading.report is None:
        return None
    return grade_for_structure(
        card,
        applicant_of(application),
        facts_of(grading.report),
        LoanStructure.of_deal(deal),
        policy,
        preapproval.grade,
    )


async def quote(
    session: AsyncSession, preapproval: Preapproval, deal: Deal, now: datetime, policy: RiskPolicy
) -> Quote:
    """Quote a car on the approval's locked offers (their versions' rates hold until expiry),
    each priced at the grade the car earns when that is cheaper than the pre-approval's."""
    ensure_active(preapproval, now)
    locked = await repository.offers(session, preapproval.id)
    terms = await product_service.product_terms_for_versions(
        session, [offer.product_version_id for offer in locked]
    )
    grade = await car_grade(session, preapproval, deal, policy)
    fitting: dict[tuple[str, int], uuid.UUID] = {}
    offers: list[Offer] = []
    not_offered: list[tuple[LockedOffer, Rejection]] = []
    for locked_offer in locked:
        outcome = evaluate_product_for_deal(
            terms[locked_offer.product_version_id],
            preapproval.grade if grade is None else grade.grade,
            preapproval.grade,
            preapproval.credit_limit,
            policy,
            deal,
        )
        if isinstance(outcome, Offer):
            offers.append(outcome)
            fitting[(outcome.product_id, outcome.product_version)] = locked_offer.id
        else:
            not_offered.append((locked_offer, outcome))
    ranked = rank_offers(offers)
    return Quote(
        offers=[(fitting[(o.product_id, o.product_version)], o) for o in ranked],
        not_offered=not_offered,
        grade=grade,
    )


async def quote_offer(
    session: AsyncSession,
    preapproval: Preapproval,
    offer_id: uuid.UUID,
    deal: Deal,
    now: datetime,
    policy: RiskPolicy,
) -> tuple[LockedOffer, Offer | Rejection, StructureGrade | None]:
    """Quote one locked offer for a car: the offer (priced at the car's grade when that is
    cheaper, never above the locked offer), or the rule the deal fails; and the car's grade."""
    ensure_active(preapproval, now)
    found = await repository.offer_and_grading(session, preapproval, offer_id)
    if found is None:
        raise OfferNotFound(field="offer_id")
    locked, grading = found
    terms = await product_service.product_terms_for_versions(session, [locked.product_version_id])
    grade = await _graded(session, preapproval, grading, deal, policy)
    outcome = evaluate_product_for_deal(
        terms[locked.product_version_id],
        preapproval.grade if grade is None else grade.grade,
        preapproval.grade,
        preapproval.credit_limit,
        policy,
        deal,
    )
    return locked, outcome, grade
