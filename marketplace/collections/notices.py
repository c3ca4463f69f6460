"""Reminders to buyers: recorded once, sent at most once, only in daytime contact hours.

The daily job *records* what is due (``record_due_notices``, in its transaction): a reminder a few
days before an instalment falls due, one when an instalment goes late, and one before a late
account is reported to the credit bureau; after the automatic debits, one for each declined
debit (``record_failure_notices``). Each has a key naming its fact (``upcoming:{loan}:{n}``,
``late:{loan}:{n}``, ``bureau_notice:{loan}:{n}``, ``debit_failed:{attempt}``), unique in the
table, so however often or concurrently the job runs it is recorded once. The text is rendered
from the ``notices`` catalogue in the language the buyer agreed to the mandate in (Chinese
otherwise) and kept as sent.

``send_pending`` then sends what is pending through the SMS gateway, outside any transaction, and
only within contact hours in China (08:00–21:00, UTC+8 all year; outside them the notices wait for
a later run): each is claimed ``pending → sending`` by one run first, so it is never sent twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.collections import repository
from marketplace.collections.models import NoticeKind
from marketplace.servicing import repository as servicing_repository
from pricing.collections import CollectionTerms
from shared import i18n, pii
from shared.db import Database
from shared.identity.sms import SmsGateway
from shared.observability import event

CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving
CONTACT_HOURS = (time(8, 0), time(21, 0))
SEND_BATCH = 200


def within_contact_hours(now: datetime) -> bool:
    local = now.astimezone(CHINA_TIME).time()
    return CONTACT_HOURS[0] <= local < CONTACT_HOURS[1]


def render(kind: NoticeKind, locale: str, **params: object) -> str:
    template = i18n.gettext("notices", f"notice.{kind.value}", locale)
    assert template is not None, kind
    return i18n.render(template, params, locale)


def _notice(
    key: str,
    kind: NoticeKind,
    loan_id: uuid.UUID,
    buyer_id: uuid.UUID,
    locale: str,
    **params: object,
) -> repository.NewNotice:
    return repository.NewNotice(
        notice_key=key,
        loan_id=loan_id,
        buyer_id=buyer_id,
        kind=kind,
        locale=locale,
        body=render(kind, locale, **params),
    )


@dataclass(frozen=True)
class _Wanted:
    """A reminder the run finds due, before its text is rendered."""

    key: str
    kind: NoticeKind
    loan_id: uuid.UUID
    buyer_id: uuid.UUID
    locale: str
    params: Mapping[str, object]


async def record_due_notices(session: AsyncSession, as_of: date) -> int:
    """Record the reminders due as of ``as_of`` (run after the delinquency pass, in its
    transaction); how many were new."""
    rows = await repository.reminder_candidates(session, as_of)
    terms_of = await servicing_repository.collection_terms(
        session, [r.product_version_id for r in rows]
    )
    locales = await repository.mandate_locales(session, list({r.loan_id for r in rows}))
    wanted: list[_Wanted] = []
    oldest_overdue: dict[uuid.UUID, repository.DueRow] = {}
    overdue_amount: dict[uuid.UUID, int] = {}
    for row in rows:
        terms = terms_of.get(row.product_version_id) or CollectionTerms()
        locale = locales.get(row.loan_id, i18n.DEFAULT_LOCALE)
        if as_of < row.due_date <= as_of + timedelta(days=terms.reminder_days_before):
            wanted.append(
                _Wanted(
                    f"upcoming:{row.loan_id}:{row.n}",
                    NoticeKind.upcoming,
                    row.loan_id,
                    row.buyer_id,
                    locale,
                    {"n": row.n, "amount_fen": row.owed, "due_date": row.due_date},
                )
            )
        if row.due_date < as_of:
            oldest_overdue.setdefault(row.loan_id, row)
            overdue_amount[row.loan_id] = overdue_amount.get(row.loan_id, 0) + row.owed
        if row.status == "late":
            wanted.append(
                _Wanted(
                    f"late:{row.loan_id}:{row.n}",
                    NoticeKind.late,
                    row.loan_id,
                    row.buyer_id,
                    locale,
                    {"n": row.n, "amount_fen": row.owed, "due_date": row.due_date},
                )
            )
    for loan_id, oldest in oldest_overdue.items():
        terms = terms_of.get(oldest.product_version_id) or CollectionTerms()
        days = (as_of - oldest.due_date).days
        if days >= terms.bureau_report_days - terms.bureau_notice_days:
            wanted.append(
                _Wanted(
                    f"bureau_notice:{loan_id}:{oldest.n}",
                    NoticeKind.bureau_notice,
                    loan_id,
                    oldest.buyer_id,
                    locales.get(loan_id, i18n.DEFAULT_LOCALE),
                    {
                        "days": days,
                        "amount_fen": overdue_amount[loan_id],
                        "report_date": oldest.due_date + timedelta(days=terms.bureau_report_days),
                    },
                )
            )
    # A late instalment stays a candidate on every run until it is paid: render only what is
    # not recorded yet (rendering a whole book's texts again took most of a 5-minute run's time).
    recorded = await repository.recorded_notice_keys(session, [w.key for w in wanted])
    return await repository.record_notices(
        session,
        [
            _notice(w.key, w.kind, w.loan_id, w.buyer_id, w.locale, **w.params)
            for w in wanted
            if w.key not in recorded
        ],
    )


async def record_failure_notices(session: AsyncSession) -> int:
    """Record a notice for every declined automatic debit that has none; how many."""
    failed = await repository.failed_attempts_without_notice(session)
    locales = await repository.mandate_locales(session, [loan.id for _, loan in failed])
    return await repository.record_notices(
        session,
        [
            _notice(
                f"debit_failed:{attempt.id}",
                NoticeKind.debit_failed,
                loan.id,
                loan.buyer_id,
                locales.get(loan.id, i18n.DEFAULT_LOCALE),
                n=attempt.installment_n,
                amount_fen=attempt.amount,
            )
            for attempt, loan in failed
        ],
    )


@dataclass
class Sending:
    sent: int = 0
    failed: int = 0
    waiting: bool = False  # outside contact hours: nothing was sent


async def send_pending(database: Database, sms: SmsGateway, *, now: datetime) -> Sending:
    """Send every pending notice, if ``now`` is within contact hours. Calls the gateway
    outside any transaction; never call it inside one."""
    done = Sending()
    if not within_contact_hours(now):
        done.waiting = True
        return done
    while True:
        async with database.sessionmaker() as session, session.begin():
            claimed = await repository.claim_pending_notices(session, limit=SEND_BATCH)
            phones: Mapping[uuid.UUID, str] = await repository.phones_of(
                session, [n.buyer_id for n in claimed]
            )
        if not claimed:
            return done
        for notice in claimed:
            sent = False
            encrypted = phones.get(notice.buyer_id)
            if encrypted is not None:
                try:
                    await sms.send_notice(
                        pii.decrypt(encrypted), text=notice.body, kind=notice.kind, sent_at=now
                    )
                    sent = True
                except Exception:  # a provider's failure: recorded, never retried blindly
                    event("collection_notice.send_failed", notice_id=str(notice.id))
            async with database.sessionmaker() as session, session.begin():
                await repository.finish_notice(session, notice.id, sent=sent)
            if sent:
                done.sent += 1
                event("collection_notice.sent", notice_id=str(notice.id), kind=notice.kind)
            else:
                done.failed += 1
