"""The decision on an application with a bureau report (or pending without one): the champion
scorecard grades the worst structure the policy allows, the challenger is scored in shadow, an
approval gets its pre-approval and an advisor, and every outcome is audited."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.advisors import service as advisor_service
from marketplace.applications.bureau import facts_from_json, facts_to_json
from marketplace.applications.models import (
    Application,
    ApplicationStatus,
    BureauReport,
    DecisionOutcome,
)
from marketplace.applications.profile import applicant_of, structure_to_json
from marketplace.preapprovals import service as preapproval_service
from marketplace.scorecards.service import ActiveModels
from pricing import Applicant, BureauFacts, RiskPolicy, assumed_structure, decide
from pricing.reasons import Reason
from shared import audit
from shared.observability import event

ALREADY_ACTIVE = Reason(
    "preapproval_already_active",
    "This person already holds an active pre-approval.",
    "该申请人已持有一份有效的预审批。",
)


@dataclass(frozen=True)
class Recorded:
    """What deciding an application did."""

    # False when the applicant was approved but another application of the person won the
    # one active pre-approval, so this one is refused.
    won: bool
    # The approval it created, with its offers (None unless approved).
    preapproval: preapproval_service.NewPreapproval | None = None


async def record(
    session: AsyncSession,
    application: Application,
    report: BureauReport | None,
    now: datetime,
    models: ActiveModels,
    policy: RiskPolicy,
) -> Recorded:
    """Decide with ``report`` (pending without one)."""
    before = application.status
    application.bureau_attempts += 1
    if report is None:
        application.status = ApplicationStatus.pending_bureau
        application.decision = DecisionOutcome.pending_bureau
        await session.flush()
        if before != ApplicationStatus.pending_bureau:
            _audit_decision(session, application, before)
        return Recorded(won=True)

    applicant = applicant_of(application)
    facts = facts_from_json(report.facts)
    # No car yet: a card that prices the structure grades the worst one the policy allows, so
    # any real car can only earn a better grade (the dealer's quote re-grades it).
    structure = assumed_structure(models.champion, applicant, facts, policy)
    decision = decide(applicant, facts, policy, models.champion, structure)
    application.structure_assumed = structure_to_json(structure)
    if models.challenger is not None:  # shadow only: recorded, never read by the decision
        shadow = decide(
            applicant,
            facts,
            policy,
            models.challenger,
            assumed_structure(models.challenger, applicant, facts, policy),
        )
        application.challenger_version = shadow.scorecard_version
        application.challenger_score = shadow.score
        application.challenger_pd = shadow.pd
        application.challenger_grade = shadow.grade
    application.bureau_report_id = report.id
    application.status = ApplicationStatus.decided
    application.decision = (
        DecisionOutcome.approved if decision.approved else DecisionOutcome.declined
    )
    application.grade = decision.grade
    application.score = decision.score
    application.pd = decision.pd
    application.credit_limit = decision.credit_limit
    application.reasons = [asdict(reason) for reason in decision.reasons]
    application.scorecard_version = decision.scorecard_version
    application.inputs_hash = _inputs_hash(applicant, facts)
    application.decided_at = now
    await session.flush()

    won, preapproval = True, None
    if decision.approved and decision.grade is not None:
        preapproval = await preapproval_service.create(
            session,
            application_id=application.id,
            buyer_id=application.buyer_id,
            person_hash=application.person_hash,
            grade=decision.grade,
            credit_limit=decision.credit_limit,
            now=now,
            policy=policy,
            # written with the approval's offers, so only if it was created
            audit_entries=[_decision_entry(application, before)],
        )
        if preapproval is None:
            # Another application for this person won the race for the one active approval:
            # this one is refused, and says why.
            application.decision = DecisionOutcome.declined
            application.grade, application.credit_limit = None, 0
            application.reasons = [asdict(ALREADY_ACTIVE)]
            await session.flush()
            won = False
        else:
            await advisor_service.assign_advisor(session, application.buyer_id)
    if preapproval is None:
        _audit_decision(session, application, before)
    event(
        "application.decided",
        application_id=str(application.id),
        decision=application.decision,
        grade=application.grade,
    )
    return Recorded(won, preapproval)


def _audit_decision(session: AsyncSession, application: Application, before: str) -> None:
    audit.record(session, **_decision_facts(application, before))


def _decision_entry(application: Application, before: str) -> dict[str, Any]:
    return audit.entry(**_decision_facts(application, before))


def _decision_facts(application: Application, before: str) -> dict[str, Any]:
    """The audit entry of a decision: its outcome, grade, limit, scores and reasons' codes."""
    return {
        "actor": audit.SYSTEM_ACTOR,
        "action": f"application.{application.decision}",
        "subject_type": "application",
        "subject_id": application.id,
        "before": {"status": before},
        "after": {
            "status": application.status,
            "decision": application.decision,
            "grade": application.grade,
            "credit_limit": application.credit_limit,
            "scorecard_version": application.scorecard_version,
            "score": application.score,
            "pd": None if application.pd is None else str(application.pd),
            "challenger_version": application.challenger_version,
            "challenger_score": application.challenger_score,
            "challenger_pd": None
            if application.challenger_pd is None
            else str(application.challenger_pd),
            "reasons": [reason["code"] for reason in application.reasons],
        },
    }


def _inputs_hash(applicant: Applicant, facts: BureauFacts) -> str:
    """A fingerprint of exactly what the decision saw, to show later it can be reproduced."""
    inputs = {"applicant": asdict(applicant), "bureau": facts_to_json(facts)}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()
