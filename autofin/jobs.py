"""The daily jobs, run by ``autofin jobs run``; each is safe to run twice or concurrently
(conditional updates, SKIP LOCKED, ON CONFLICT DO NOTHING).

``run_daily_jobs`` runs in the caller's one transaction. ``run_reconciliation`` — the steps that
ask Stripe what really happened to money we are unsure of — cannot: Stripe is never called
inside a transaction, so it takes the database and opens short transactions between the calls.
It runs as of now whatever ``--as-of`` says: Stripe's record is only ever current."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import reconciliation as deal_reconciliation
from marketplace.advisors import service as advisor_service
from marketplace.applications import service as application_service
from marketplace.applications.bureau import CreditBureau, SandboxBureau
from marketplace.monitoring import service as monitoring_service
from marketplace.policy import current_policy
from marketplace.preapprovals import service as preapproval_service
from marketplace.scorecards import service as scorecard_service
from marketplace.servicing import delinquency
from marketplace.servicing import reconciliation as payment_reconciliation
from shared import ratelimit
from shared.db import Database, utcnow
from shared.idempotency import purge_expired_keys
from shared.identity import codes as identity_codes
from shared.payments.gateway import PaymentGateway
from shared.settings import get_settings
from shared.webhooks import repository as webhook_repository

IDEMPOTENCY_KEY_RETENTION = timedelta(days=30)
RATE_LIMIT_RETENTION = timedelta(days=2)  # longer than any limit's window
WEBHOOK_EVENT_RETENTION = timedelta(days=30)  # the delivery log organisations can read


def as_of_moment(as_of: date, now: datetime) -> datetime:
    """The instant the jobs run "as of": now for today, else the end of that day (UTC)."""
    if as_of == now.date():
        return now
    return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)


async def run_daily_jobs(
    session: AsyncSession,
    *,
    as_of: date,
    progress: Callable[[str], None],
    bureau: CreditBureau | None = None,
) -> dict[str, int]:
    """Run every daily job as of ``as_of``; how many records each one changed."""
    moment = as_of_moment(as_of, utcnow())
    bureau = bureau or SandboxBureau.from_settings(get_settings())
    done: dict[str, int] = {}
    progress(f"Daily jobs as of {moment.isoformat()}")
    done["preapprovals_expired"] = await preapproval_service.expire_stale(session, moment)
    progress(f"  expired {done['preapprovals_expired']} pre-approvals")
    policy = current_policy()
    done["applications_decided"] = await application_service.retry_pending(
        session,
        bureau,
        moment,
        models=await scorecard_service.active_models(session),
        policy=policy,
    )
    progress(f"  decided {done['applications_decided']} applications waiting for the bureau")
    done["advisors_assigned"] = await advisor_service.assign_waiting_buyers(session)
    progress(f"  assigned advisors to {done['advisors_assigned']} buyers")
    progress("  servicing active loans …")
    servicing = await delinquency.run_delinquency(session, as_of, progress=progress)
    done["installments_late"] = servicing.installments_late
    done["late_fees_charged"] = servicing.late_fees
    done["loans_charged_off"] = servicing.charged_off
    progress(
        f"  serviced {servicing.loans_checked} loans: {servicing.installments_late} instalments"
        f" late, {servicing.late_fees} late fees, {servicing.charged_off} charged off"
    )
    report = await monitoring_service.run(session, as_of=as_of, policy=policy)
    done["risk_monitor_loans"] = report.loans_observed
    progress(
        f"  risk monitor: {report.loans_observed} loans a year on book, score PSI "
        f"{report.psi if report.psi is not None else 'n/a'} ({report.stability})"
    )
    done["rate_limit_counters_purged"] = await ratelimit.purge_expired(
        session, older_than=moment - RATE_LIMIT_RETENTION
    )
    done["sms_codes_purged"] = await identity_codes.purge_expired(
        session, older_than=moment - RATE_LIMIT_RETENTION
    )
    # Keys outlive Stripe's own (24 h) by far; a month keeps every realistic retry replayable.
    done["idempotency_keys_purged"] = await purge_expired_keys(
        session, older_than=utcnow() - IDEMPOTENCY_KEY_RETENTION
    )
    done["webhook_events_purged"] = await webhook_repository.purge_events(
        session, older_than=utcnow() - WEBHOOK_EVENT_RETENTION
    )
    return done


async def run_reconciliation(
    database: Database, gateway: PaymentGateway, *, progress: Callable[[str], None]
) -> dict[str, int]:
    """Settle the money the webhooks left unsettled, from Stripe's record; how many of each.

    Call it outside any transaction (after the daily jobs committed): it commits, calls Stripe,
    commits, per record, and two runs at once act on each record at most once."""
    done: dict[str, int] = {}
    done["down_payments_settled"] = await deal_reconciliation.settle_paid_down_payments(
        database, gateway
    )
    progress(f"  handed over {done['down_payments_settled']} deals paid without a webhook")
    done["down_payments_refunded"] = await deal_reconciliation.refund_owed_down_payments(
        database, gateway
    )
    progress(f"  refunded {done['down_payments_refunded']} down payments paid after cancellation")
    payments = await payment_reconciliation.settle_stalled_payments(database, gateway)
    done["payments_credited"] = payments.credited
    done["payments_failed"] = payments.failed
    done["payments_abandoned"] = payments.abandoned
    progress(
        f"  settled stalled repayments: {payments.credited} credited, {payments.failed} failed,"
        f" {payments.abandoned} abandoned, {payments.left} left for later"
    )
    return done


async def run_all_jobs(
    database: Database,
    *,
    as_of: date,
    progress: Callable[[str], None],
    gateway: PaymentGateway | None = None,
) -> None:
    """What ``autofin jobs run`` does, and the worker every five minutes: the daily jobs in one
    transaction, then the reconciliation with Stripe between transactions."""
    async with database.sessionmaker() as session, session.begin():
        await run_daily_jobs(session, as_of=as_of, progress=progress)
    owned = gateway is None
    gateway = gateway or PaymentGateway.from_settings(get_settings())
    try:
        await run_reconciliation(database, gateway, progress=progress)
    finally:
        if owned:
            await gateway.aclose()
