"""Applications: consent, a bureau pull (or a recent report), the pricing decision, and for an
approval a pre-approval with offers and an advisor. A bureau outage leaves the application
``pending_bureau``; the buyer or ``autofin jobs run`` retries it and nothing is lost.

A request that needs a fresh pull runs in two committed phases on its session: the application
(limits counted, consent recorded) commits first, the bureau answers while the request holds no
connection and no lock, then the decision commits. If the process dies in between, the
application stays ``submitted`` and ``autofin jobs run`` decides it (``retry_pending``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.applications import consents, decision, holder, repository
from marketplace.applications.bureau import (
    BureauUnavailable,
    CreditBureau,
    facts_to_json,
    pull_with_timeout,
)
from marketplace.applications.exceptions import (
    AgeMismatch,
    AlreadyDecided,
    ApplicationNotFound,
    ApplicationRefused,
    ConsentRequired,
)
from marketplace.applications.identity_check import IdentityVerifier
from marketplace.applications.models import (
    Application,
    ApplicationStatus,
    BureauReport,
    Channel,
)
from marketplace.applications.national_id import age_on
from marketplace.applications.schemas import ApplicationCreate
from marketplace.preapprovals.service import NewPreapproval
from marketplace.scorecards.service import ActiveModels
from pricing import BureauFacts, RiskPolicy
from shared import audit, pii, ratelimit
from shared.db import commit_lazily
from shared.identity.principal import Principal
from shared.observability import event

REPORT_REUSE_WINDOW = timedelta(days=30)
# A submission not decided within this was left by a process that died during its bureau pull.
ABANDONED_SUBMISSION = timedelta(minutes=5)
# Each application can cost a bureau pull, so attempts are limited per account and per person.
APPLICATIONS_PER_BUYER_PER_DAY = 5
APPLICATIONS_PER_PERSON_PER_DAY = 3
WALK_INS_PER_DEALER_PER_DAY = 500
CONSENT_SCOPE = (
    "credit report: repayment history, delinquencies, inquiries, utilisation, write-offs"
)


@dataclass(frozen=True)
class Decided:
    """An application as this request left it, with the approval the request created."""

    application: Application
    preapproval: NewPreapproval | None
    # False when another request decided the application meanwhile: its approval, if any, is
    # then not known here.
    known: bool = True

    def fresh(self) -> dict[uuid.UUID, NewPreapproval | None]:
        """What ``application_views`` need not read back: this application's approval (or
        that it has none), when known."""
        return {self.application.id: self.preapproval} if self.known else {}


async def submit(
    session: AsyncSession,
    actor: Principal,
    body: ApplicationCreate,
    bureau: CreditBureau,
    verifier: IdentityVerifier,
    *,
    buyer_id: uuid.UUID,
    now: datetime,
    models: ActiveModels,
    policy: RiskPolicy,
    channel: Channel = Channel.online,
    dealer_id: uuid.UUID | None = None,
) -> Decided:
    """Take an application and decide it now (or leave it pending if the bureau is down) with
    the champion card in ``models`` (its challenger scored in shadow) under ``policy``."""
    if not body.consent.bureau_pull:
        raise ConsentRequired(field="consent.bureau_pull")
    if not body.consent.share_with_lenders:
        raise ConsentRequired(
            "Lenders can make offers only with the separate consent to share the decision with "
            "them (consent.share_with_lenders: true).",
            field="consent.share_with_lenders",
        )
    if age_on(body.national_id, now.date()) != body.age:
        raise AgeMismatch(field="age")
    person_hash = pii.lookup_hash(body.national_id)
    limits = {
        f"applications:buyer:{buyer_id}": APPLICATIONS_PER_BUYER_PER_DAY,
        f"applications:person:{person_hash}": APPLICATIONS_PER_PERSON_PER_DAY,
    }
    if dealer_id is not None:
        limits[f"applications:dealer:{dealer_id}"] = WALK_INS_PER_DEALER_PER_DAY
    await ratelimit.consume(session, limits, window=timedelta(days=1))
    await holder.ensure_holder(
        session, actor, buyer_id, body.national_id, person_hash, verifier, now
    )
    active, report_id = await repository.person_standing(
        session, person_hash, now, reports_since=now - REPORT_REUSE_WINDOW
    )
    if active:
        raise ApplicationRefused()
    report = None if report_id is None else await repository.report(session, report_id)

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
            "bureau_pull_version": consents.BUREAU_PULL.version,
            "share_with_lenders": True,
            "share_with_lenders_version": consents.LENDER_SHARING.version,
            "purpose": body.consent.purpose,
            "scope": CONSENT_SCOPE,
            "consented_at": now.isoformat(),
            "recorded_by": actor.actor,
        },
        created_at=now,
    )
    submitted = audit.entry(
        actor=actor,
        action="application.submitted",
        subject_type="application",
        subject_id=application.id,
        after={"channel": channel, "dealer_id": str(dealer_id) if dealer_id else None},
    )
    # One statement: the application, its consents, and the audit entries of this transaction.
    await consents.record_with_application(
        session, actor, application, now, along=[audit.along(session, submitted)]
    )
    return await _decide(session, application, report, bureau, now, models, policy)


async def retry(
    session: AsyncSession,
    actor: Principal,
    application_id: uuid.UUID,
    bureau: CreditBureau,
    now: datetime,
    *,
    models: ActiveModels,
    policy: RiskPolicy,
) -> Decided:
    """Retry the bureau pull of a pending application of this buyer."""
    application = await repository.get(session, application_id, buyer_id=actor.uid)
    if application is None:
        raise ApplicationNotFound()
    if application.status != ApplicationStatus.pending_bureau:
        raise AlreadyDecided()
    report = await _recent_report(session, application, now)
    return await _decide(session, application, report, bureau, now, models, policy)


async def retry_pending(
    session: AsyncSession,
    bureau: CreditBureau,
    now: datetime,
    *,
    models: ActiveModels,
    policy: RiskPolicy,
    limit: int = 500,
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
            report = _report_of(application, bureau, await _pull(bureau, application), now)
            if report is not None:
                session.add(report)
                await session.flush()  # before the decision's UPDATE names it
        await decision.record(session, application, report, now, models, policy)
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
    session: AsyncSession,
    application: Application,
    report: BureauReport | None,
    bureau: CreditBureau,
    now: datetime,
    models: ActiveModels,
    policy: RiskPolicy,
) -> Decided:
    """Decide with ``report`` (a recent one), or commit, pull outside any transaction, then
    decide under the application's row lock — unless someone (a concurrent retry, the job)
    decided it since."""
    if report is None:
        # The phase boundary: nothing is held while the bureau answers. The decision's commit
        # follows before anyone is answered, so this one need not wait for the disk.
        await commit_lazily(session)
        report = _report_of(application, bureau, await _pull(bureau, application), now)
        if report is None:
            locked = await repository.get_for_platform(session, application.id, for_update=True)
        else:
            locked = await repository.lock_recording_report(session, application.id, report)
        assert locked is not None
        if locked.status == ApplicationStatus.decided:
            return Decided(locked, None, known=False)
        application = locked
    recorded = await decision.record(session, application, report, now, models, policy)
    if not recorded.won:
        await session.commit()  # the refusal is the application's outcome; keep it
        raise ApplicationRefused()
    return Decided(application, recorded.preapproval)


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


def _report_of(
    application: Application, bureau: CreditBureau, facts: BureauFacts | None, now: datetime
) -> BureauReport | None:
    """The report of a pull (not stored yet), or None when the bureau gave no facts."""
    if facts is None:
        return None
    return BureauReport(
        person_hash=application.person_hash,
        source=bureau.name,
        facts=facts_to_json(facts),
        pulled_at=now,
    )
