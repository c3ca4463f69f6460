"""Applications as their owner sees them, built in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.applications.models import Application
from marketplace.applications.schemas import ApplicationPublic, ReasonPublic
from marketplace.preapprovals import repository as preapproval_repository
from marketplace.preapprovals import service as preapproval_service
from marketplace.preapprovals.schemas import preapproval_public
from shared import pii
from shared.db import utcnow


async def application_views(
    session: AsyncSession, applications: Sequence[Application]
) -> list[ApplicationPublic]:
    """The applications as the buyer sees them, with their pre-approvals (three queries)."""
    preapprovals = await preapproval_repository.by_applications(
        session, [application.id for application in applications]
    )
    offers = await preapproval_repository.offers_for(
        session, [preapproval.id for preapproval in preapprovals.values()]
    )
    now = utcnow()
    views = []
    for application in applications:
        preapproval = preapprovals.get(application.id)
        view = None
        if preapproval is not None:
            status_now = preapproval_service.effective_status(preapproval, now)
            view = preapproval_public(preapproval, offers[preapproval.id], status_now)
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
            )
        )
    return views
