"""Applications as their owner sees them, built in a fixed number of queries."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.applications import repository
from marketplace.applications.models import Application, DecisionOutcome
from marketplace.applications.schemas import ApplicationPublic, Explanation, ReasonPublic
from marketplace.preapprovals import repository as preapproval_repository
from marketplace.preapprovals import service as preapproval_service
from marketplace.preapprovals.service import NewPreapproval
from marketplace.preapprovals.views import details, preapproval_public
from shared import pii
from shared.db import utcnow


async def buyer_applications(
    session: AsyncSession, buyer_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[ApplicationPublic], int]:
    """A page of the buyer's applications, newest first, and their number."""
    rows, total = await repository.list_for_buyer(session, buyer_id, limit=limit, offset=offset)
    return await application_views(session, rows), total


async def application_views(
    session: AsyncSession,
    applications: Sequence[Application],
    *,
    fresh: Mapping[uuid.UUID, NewPreapproval | None] | None = None,
) -> list[ApplicationPublic]:
    """The applications as the buyer sees them, with their pre-approvals: those in ``fresh``
    (just decided by this request) as given, the others read (one query, none if none are
    left)."""
    fresh = fresh or {}
    preapprovals = {
        application_id: (new.preapproval, new.offers)
        for application_id, new in fresh.items()
        if new is not None
    }
    unknown = [application.id for application in applications if application.id not in fresh]
    if unknown:
        stored = await preapproval_repository.with_offers_by_applications(session, unknown)
        preapprovals |= {key: (row, details(offers)) for key, (row, offers) in stored.items()}
    now = utcnow()
    views = []
    for application in applications:
        view = None
        if application.id in preapprovals:
            preapproval, offers = preapprovals[application.id]
            status_now = preapproval_service.effective_status(preapproval, now)
            view = preapproval_public(preapproval, offers, status_now)
        views.append(
            ApplicationPublic(
                id=application.id,
                status=application.status,
                decision=application.decision,
                grade=application.grade,
                credit_limit=application.credit_limit,
                reasons=[ReasonPublic.model_validate(reason) for reason in application.reasons],
                national_id_masked=pii.mask_national_id(
                    pii.decrypt(application.national_id_encrypted)
                ),
                channel=application.channel,
                created_at=application.created_at,
                decided_at=application.decided_at,
                preapproval=view,
                explanation=explanation(application),
            )
        )
    return views


def explanation(application: Application) -> Explanation | None:
    """The decision in plain words: who decided (a scorecard), the outcome, the factors that
    weighed most (the reasons, most points lost first) and the right to a human review."""
    if application.decision not in (DecisionOutcome.approved, DecisionOutcome.declined):
        return None
    factors_en = "; ".join(reason["en"].rstrip(".") for reason in application.reasons)
    factors_zh = "；".join(reason["zh"].rstrip("。") for reason in application.reasons)
    review_en = "You may ask your advisor for a person to review this decision."
    review_zh = "您可以通过您的顾问申请人工复核。"
    if application.decision == DecisionOutcome.declined:
        en = "An automated credit scorecard declined this application."
        zh = "本申请由自动化信用评分卡审批，未获批准。"
        if factors_en:
            en += f" What mattered most: {factors_en}."
            zh += f"影响最大的因素：{factors_zh}。"
        return Explanation(en=f"{en} {review_en}", zh=zh + review_zh)
    en = (
        f"An automated credit scorecard graded you {application.grade} (A1 is the best of 35 "
        "grades), assuming the riskiest way of financing a car; a real car with a larger down "
        "payment or a shorter term can earn a better grade and rate."
    )
    zh = (
        f"自动化信用评分卡给您的等级为 {application.grade}（共 35 级，A1 最好），"
        "按最不利的融资结构评估；实际购车时首付更高或期限更短，可获得更好的等级和利率。"
    )
    if factors_en:
        en += f" What held your grade down most: {factors_en}."
        zh += f"拉低等级最多的因素：{factors_zh}。"
    return Explanation(en=f"{en} {review_en}", zh=zh + review_zh)
