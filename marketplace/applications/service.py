"""Applications: consent, a bureau pull (or a recent report), the pricing decision, and for an
approval a pre-approval with offers and an advisor. A bureau outage leaves the application
``pending_bureau``; the buyer or ``autofin jobs run`` retries it and nothing is lost.

A request that needs a fresh pull runs in two committed phases on its session: the application
(limits counted, consent recorded) commits first, the bureau answers while the request holds no
connection and no lock, then the decision commits. If the process dies in between, the
application stays ``submitted`` and ``autofin jobs run`` decides it (``retry_pending``)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.advisors import service as advisor_service
from marketplace.applications import repository
from marketplace.applications.bureau import (
    BureauUnavailable,
    CreditBureau,
    facts_from_json,
    facts_to_json,
    pull_with_timeout,
)
from marketplace.applications.exceptions import (
    AgeMismatch,
    AlreadyDecided,
    ApplicationNotFound,
    ConsentRequired,
    PreapprovalAlreadyActive,
)
from marketplace.applications.models import (
    Application,
    ApplicationStatus,
    BureauReport,
    Channel,
    DecisionOutcome,
)
from marketplace.applications.national_id import age_on
from marketplace.applications.schemas import ApplicationCreate
from marketplace.policy import current_policy
from marketplace.preapprovals import repository as preapproval_repository
from marketplace.preapprovals import service as preapproval_service
from pricing import Applicant, BureauFacts, decide
from pricing.reasons import Reason
from shared import audit, pii, ratelimit
from shared.identity.principal import Principal
from shared.observability import event

REPORT_REUSE_WINDOW = timedelta(days=30)
# A submission not decided within this was left by a process that died during its bureau pull.
ABANDONED_SUBMISSION = timedelta(minutes=5)
# Each application can cost a bureau pull, so attempts are limited per account and per person.
APPLICATIONS_PER_BUYER_PER_DAY = 5
APPLICATIONS_PER_PERSON_PER_DAY = 3
WALK_INS_PER_DEALER_PER_DAY = 500
ALREADY_ACTIVE = Reason(
    "preapproval_already_active",
    "This person already holds an active pre-approval.",
    "该申请人已持有一份有效的预审批。",
)
CONSENT_SCOPE = (
    "credit report: repayment history, delinquencies, inquiries, utilisation, write-offs"
)


async def submit(
    session: AsyncSession,
    actor: Principal,
    body: ApplicationCreate,
    bureau: CreditBureau,
    *,
    buyer_id: uuid.UUID,
    now: datetime,
    channel: Channel = Channel.online,
    dealer_id: uuid.UUID | None = None,
) -> Application:
    """Take an application and decide it now (or leave it pending if the bureau is down)."""
    if not body.consent.bureau_pull:
        raise ConsentRequired(field="consent.bureau_pull")
    if age_on(body.national_id, now.date()) != body.age:
        raise AgeMismatch(field="age")
    person_hash = pii.lookup_hash(body.national_id)
    day = timedelta(days=1)
    await ratelimit.consume(
        session, f"applications:buyer:{buyer_id}", limit=APPLICATIONS_PER_BUYER_PER_DAY, window=day
    )
    await ratelimit.consume(
        session,
        f"applications:person:{person_hash}",
        limit=APPLICATIONS_PER_PERSON_PER_DAY,
        window=day,
    )
    if dealer_id is not None:
        await ratelimit.consume(
            session,
            f"applications:dealer:{dealer_id}",
            limit=WALK_INS_PER_DEALER_PER_DAY,
            window=day,
        )
    await preapproval_repository.expire_stale(session, now, person_hash=person_hash)
    active = await preapproval_repository.active_for_person(session, person_hash, now)
    if active is not None:
        raise _already_active(active.id)

    application = Application(
        buyer_id=buyer_id,
        channel=channel,
        dealer_id=dealer_id,
        person_hash=person_hash,
        national_id_encrypted=pii.encrypt(body.national_id),
        age=body.age,
        monthly_income=body.monthly_income,
        employment_months=body.employment_months,
        housing=body.housing,
        existing_monthly_debt=body.existing_monthly_debt,
        marital_status=body.marital_status,
        employment_type=body.employment_type,
        monthly_expenses=body.monthly_expenses,
        assets=body.assets,
        dependents=body.dependents,
        consent={
            "bureau_pull": True,
            "purpose": body.consent.purpose,
            "scope": CONSENT_SCOPE,
            "consented_at": now.isoformat(),
            "recorded_by": actor.actor,
        },
        created_at=now,
    )
    session.add(application)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="application.submitted",
        subject_type="application",
        subject_id=application.id,
        after={"channel": channel, "dealer_id": str(dealer_id) if dealer_id else None},
    )
    return await _decide(session, application, bureau, now)


async def retry(
    session: AsyncSession,
    actor: Principal,
    application_id: uuid.UUID,
    bureau: CreditBureau,
    now: datetime,
) -> Application:
    """Retry the bureau pull of a pending application of this buyer."""
    application = await repository.get(session, application_id, buyer_id=actor.uid)
    if application is None:
        raise ApplicationNotFound()
    if application.status != ApplicationStatus.pending_bureau:
        raise AlreadyDecided()
    return await _decide(session, application, bureau, now)


async def retry_pending(
    session: AsyncSession, bureau: CreditBureau, now: datetime, limit: int = 500
) -> int:
    """The daily job: decide the applications waiting for the bureau, and those a dead process
    left ``submitted``, that no one else is retrying; how many got decided. (A batch job: its
    pulls run while it holds those applications' row locks, which is what keeps two runs apart.)
    """
    decided = 0
    for application in await repository.lock_undecided(
        session, submitted_before=now - ABANDONED_SUBMISSION, limit=limit
    ):
        report = await _recent_report(session, application, now)
        if report is None:
            report = await _pulled_report(
                session, application, bureau, await _pull(bureau, application), now
            )
        await _record_decision(session, application, report, now)
        decided += application.status == ApplicationStatus.decided
    return decided


async def get_for_buyer(
    session: AsyncSession, buyer_id: uuid.UUID, application_id: uuid.UUID
) -> Application:
    application = await repository.get(session, application_id, buyer_id=buyer_id)
    if application is None:
        raise ApplicationNotFound()
    return application


async def _decide(
    session: AsyncSession, application: Application, bureau: CreditBureau, now: datetime
) -> Application:
    """Decide with a recent report, or commit, pull outside any transaction, then decide under
    the application's row lock — unless someone (a concurrent retry, the job) decided it since."""
    report = await _recent_report(session, application, now)
    if report is None:
        await session.commit()  # the phase boundary: nothing is held while the bureau answers
        facts = await _pull(bureau, application)
        locked = await repository.get(session, application.id, for_update=True)
        assert locked is not None
        if locked.status == ApplicationStatus.decided:
            return locked
        application = locked
        report = await _pulled_report(session, application, bureau, facts, now)
    await _record_decision(session, application, report, now)
    if application.reasons and application.reasons[0]["code"] == ALREADY_ACTIVE.code:
        await session.commit()  # the refusal is the application's outcome; keep it
        active = await preapproval_repository.active_for_person(
            session, application.person_hash, now
        )
        raise _already_active(active.id if active else None)
    return application


async def _recent_report(
    session: AsyncSession, application: Application, now: datetime
) -> BureauReport | None:
    return await repository.recent_report(
        session, application.person_hash, now - REPORT_REUSE_WINDOW
    )


async def _pull(bureau: CreditBureau, application: Application) -> BureauFacts | None:
    """The bureau's facts on the applicant, or None while it is unavailable. No database."""
    try:
        return await pull_with_timeout(bureau, pii.decrypt(application.national_id_encrypted))
    except BureauUnavailable as error:
        event("bureau.unavailable", application_id=str(application.id), error=str(error))
        return None


async def _pulled_report(
    session: AsyncSession,
    application: Application,
    bureau: CreditBureau,
    facts: BureauFacts | None,
    now: datetime,
) -> BureauReport | None:
    if facts is None:
        return None
    report = BureauReport(
        person_hash=application.person_hash,
        source=bureau.name,
        facts=facts_to_json(facts),
        pulled_at=now,
    )
    session.add(report)
    await session.flush()
    return report


async def _record_decision(
    session: AsyncSession, application: Application, report: BureauReport | None, now: datetime
) -> None:
    before = application.status
    application.bureau_attempts += 1
    if report is None:
        application.status = ApplicationStatus.pending_bureau
        application.decision = DecisionOutcome.pending_bureau
        await session.flush()
        if before != ApplicationStatus.pending_bureau:
            _audit_decision(session, application, before)
        return

    applicant = Applicant(
        age=application.age,
        monthly_income=application.monthly_income,
        employment_months=application.employment_months,
        housing=application.housing,  # type: ignore[arg-type]  # Applicant validates it
        existing_monthly_debt=application.existing_monthly_debt,
        marital_status=application.marital_status,  # type: ignore[arg-type]  # validated there
        employment_type=application.employment_type,  # type: ignore[arg-type]
        monthly_expenses=application.monthly_expenses,
        assets=application.assets,
        dependents=application.dependents,
    )  # the loan's structure is unknown at pre-approval: scored as missing
    facts = facts_from_json(report.facts)
    policy = current_policy()
    decision = decide(applicant, facts, policy)
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

    if decision.approved and decision.grade is not None:
        preapproval = await preapproval_service.create(
            session,
            application_id=application.id,
            buyer_id=application.buyer_id,
            person_hash=application.person_hash,
            grade=decision.grade,
            credit_limit=decision.credit_limit,
            now=now,
        )
        if preapproval is None:
            # Another application for this person won the race for the one active approval:
            # this one is refused, and says why.
            application.decision = DecisionOutcome.declined
            application.grade, application.credit_limit = None, 0
            application.reasons = [asdict(ALREADY_ACTIVE)]
            await session.flush()
        else:
            await advisor_service.assign_advisor(session, application.buyer_id)
    _audit_decision(session, application, before)
    event(
        "application.decided",
        application_id=str(application.id),
        decision=application.decision,
        grade=application.grade,
    )


def _audit_decision(session: AsyncSession, application: Application, before: str) -> None:
    audit.record(
        session,
        actor=audit.SYSTEM_ACTOR,
        action=f"application.{application.decision}",
        subject_type="application",
        subject_id=application.id,
        before={"status": before},
        after={
            "status": application.status,
            "decision": application.decision,
            "grade": application.grade,
            "credit_limit": application.credit_limit,
            "scorecard_version": application.scorecard_version,
            "reasons": [reason["code"] for reason in application.reasons],
        },
    )


def _inputs_hash(applicant: Applicant, facts: BureauFacts) -> str:
    """A fingerprint of exactly what the decision saw, to show later it can be reproduced."""
    inputs = {"applicant": asdict(applicant), "bureau": facts_to_json(facts)}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def _already_active(preapproval_id: uuid.UUID | None) -> PreapprovalAlreadyActive:
    return PreapprovalAlreadyActive(
        field="national_id", variant="held", params={"preapproval_id": preapproval_id}
    )
