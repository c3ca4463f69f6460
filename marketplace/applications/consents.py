"""The consents behind an application, recorded with the exact text and version shown.

- ``bureau_pull`` (征信查询授权): the person's own authorisation of one credit-bureau pull for
  this application; it is used up by the decision and cannot be withdrawn afterwards.
- ``lender_sharing`` (PIPL art. 23 separate consent): the platform's decision — grade, PD and
  reasons, never the bureau report — may go to the named lenders whose products the applicant
  is matched with. Withdrawing it stops any future sharing; what was shared stays shared.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.applications import repository
from marketplace.applications.exceptions import ConsentNotFound, ConsentNotWithdrawable
from marketplace.applications.models import Application, Consent, ConsentKind
from shared import audit
from shared.identity.principal import Principal
from shared.writes import Write


@dataclass(frozen=True)
class ConsentText:
    version: str
    zh: str
    en: str


BUREAU_PULL = ConsentText(
    version="bureau-pull-2026-12",
    zh=(
        "本人授权平台为本次汽车贷款预审批，向征信机构查询本人的信用报告（还款记录、逾期、"
        "查询记录、授信使用率、核销记录），仅用于本次申请。"
    ),
    en=(
        "I authorise the platform to obtain my credit report (repayment history, delinquencies, "
        "inquiries, utilisation, write-offs) from a credit bureau for this auto-loan "
        "pre-approval only."
    ),
)
LENDER_SHARING = ConsentText(
    version="lender-sharing-2026-12",
    zh=(
        "本人单独同意平台将本次申请的评估结果（等级、违约概率及原因）提供给下列贷款机构，用于向本人"
        "提供贷款报价；不提供征信报告原文。本人可随时撤回，撤回不影响撤回前的提供。"
    ),
    en=(
        "I separately agree that the platform may share this application's assessment (grade, "
        "probability of default and reasons) with the lenders named below so they can offer me "
        "loans; the credit report itself is never shared. I may withdraw this at any time; "
        "withdrawal does not affect sharing before it."
    ),
)


async def record_with_application(
    session: AsyncSession,
    actor: Principal,
    application: Application,
    now: datetime,
    *,
    along: Sequence[Write] = (),
) -> None:
    """Insert a new application with both its consents, with the texts and versions shown (the
    sharing consent names every lender active now), and ``along``, in one statement."""
    await repository.insert_application(
        session,
        application,
        recorded_by=actor.actor,
        granted_at=now,
        bureau_pull=(BUREAU_PULL.version, {"zh": BUREAU_PULL.zh, "en": BUREAU_PULL.en}),
        lender_sharing=(LENDER_SHARING.version, {"zh": LENDER_SHARING.zh, "en": LENDER_SHARING.en}),
        along=along,
    )


async def list_for_buyer(
    session: AsyncSession, buyer_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[Consent], int]:
    return await repository.consents_of(session, buyer_id, limit=limit, offset=offset)


async def withdraw(
    session: AsyncSession, buyer: Principal, consent_id: uuid.UUID, now: datetime
) -> Consent:
    """Withdraw a sharing consent of this buyer (again: no change); the bureau-pull
    authorisation cannot be withdrawn once used."""
    consent = await repository.consent_of(session, consent_id, user_id=buyer.uid)
    if consent is None:
        raise ConsentNotFound()
    if consent.kind != ConsentKind.lender_sharing:
        raise ConsentNotWithdrawable()
    if await repository.withdraw_consent(session, consent_id, now):
        audit.record(
            session,
            actor=buyer,
            action="consent.withdrawn",
            subject_type="application",
            subject_id=consent.application_id,
            after={"kind": consent.kind, "version": consent.version},
        )
    await session.refresh(consent)
    return consent


async def decision_shared_with(
    session: AsyncSession, application: Application, lender_id: uuid.UUID
) -> dict[str, Any] | None:
    """What a lender may see of an application's decision: the platform's grade, PD and reasons
    (never the bureau report), and only while the applicant's sharing consent names it."""
    consent = await repository.sharing_consent_in_force(session, application.id)
    if consent is None or str(lender_id) not in {r["id"] for r in consent.recipients}:
        return None
    pd = application.pd if application.pd is not None else None
    return {
        "grade": application.grade,
        "pd": str(Decimal(pd)) if pd is not None else None,
        "reasons": [reason["code"] for reason in application.reasons],
    }
