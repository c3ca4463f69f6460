"""The daily jobs, run by ``autofin jobs run``; each is safe to run twice or concurrently
(conditional updates, SKIP LOCKED, ON CONFLICT DO NOTHING).

``run_daily_jobs`` runs in the caller's one transaction. ``run_collections`` (automatic debits
and sending reminders) and ``run_reconciliation`` — the steps that ask Stripe what really happened
to money we are unsure of — cannot: Stripe and the SMS gateway are never called inside a
transaction, so they take the database and open short transactions between the calls. The
reconciliation runs as of now whatever ``--as-of`` says: Stripe's record is only ever current.
``run_all`` is the three in order, then the payouts (``run_payouts``: disbursements to dealers
still waiting for their Stripe Transfer), as ``autofin jobs run`` runs them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import reconciliation as deal_reconciliation
from dealer_portal.funding import payouts
from marketplace.advisors import service as advisor_service
from marketplace.applications import service as application_service
from marketplace.applications.bureau import CreditBureau, SandboxBureau
from marketplace.collateral import service as collateral_service
from marketplace.collections import debits as debit_runs
from marketplace.collections import guarantee, notices
from marketplace.collections.collector import Collector, StripeCollector
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
from shared.identity.sms import SandboxSms, SmsGateway
from shared.payments.gateway import PaymentGateway
from shared.payments.transfers import TransferGateway, transfer_gateway_for
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
    models = await scorecard_service.active_models(session)
    done["applications_decided"] = await application_service.retry_pending(
        session, bureau, moment, models=models, policy=policy
    )
    progress(f"  decided {done['applications_decided']} applications waiting for the bureau")
    done["advisors_assigned"] = await advisor_service.assign_waiting_buyers(session)
    progress(f"  assigned advisors to {done['advisors_assigned']} buyers")
    progress("  servicing active loans …")
    servicing = await delinquency.run_delinquency(
        session,
        as_of,
        legal_cap_apr=policy.legal_cap_apr,
        on_charge_off=guarantee.pay_claim,
        progress=progress,
    )
    done["installments_late"] = servicing.installments_late
    done["late_fees_charged"] = servicing.late_fees
    done["loans_charged_off"] = servicing.charged_off
    progress(
        f"  serviced {servicing.loans_checked} loans: {servicing.installments_late} instalments"
        f" late, {servicing.late_fees} late fees, {servicing.charged_off} charged off"
    )
    done["collateral_overdue"] = await collateral_service.flag_overdue(
        session, as_of=as_of, now=moment
    )
    progress(f"  flagged {done['collateral_overdue']} collateral registrations overdue")
    reserve = await guarantee.update_reserve(session, as_of)
    done["guarantee_provisions"] = reserve.provisioned
    done["guarantee_recoveries"] = reserve.recoveries
    progress(
        f"  guarantee reserve: {reserve.provisioned} loans provisioned,"
        f" {reserve.recoveries} recoveries"
    )
    done["reminders_recorded"] = await notices.record_due_notices(session, as_of)
    progress(f"  recorded {done['reminders_recorded']} reminders")
    report = await monitoring_service.run(
        session, as_of=as_of, policy=policy, champion=models.champion
    )
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


async def run_collections(
    database: Database,
    collector: Collector,
    sms: SmsGateway,
    *,
    as_of: date,
    now: datetime,
    progress: Callable[[str], None],
) -> dict[str, int]:
    """The automatic debits due by ``as_of``, then the reminders: a notice for each declined
    debit, and every pending notice sent if ``now`` is within contact hours. Call it outside
    any transaction (after the daily jobs committed): it calls the rails between its own."""
    done: dict[str, int] = {}
    debits = await debit_runs.run_debits(database, collector, as_of=as_of, progress=progress)
    done["debits_made"] = debits.planned
    done["debits_collected"] = debits.collected
    done["debits_declined"] = debits.declined
    progress(
        f"  automatic debits: {debits.planned} made, {debits.collected} collected,"
        f" {debits.declined} declined, {debits.left} left to settle"
    )
    async with database.sessionmaker() as session, session.begin():
        done["reminders_recorded"] = await notices.record_failure_notices(session)
    sending = await notices.send_pending(database, sms, now=now)
    done["reminders_sent"] = sending.sent
    progress(
        "  reminders: outside contact hours, left for later"
        if sending.waiting
        else f"  reminders: {sending.sent} sent, {sending.failed} undeliverable"
    )
    return done


async def run_all(
    database: Database,
    gateway: PaymentGateway,
    *,
    as_of: date,
    progress: Callable[[str], None],
    sms: SmsGateway | None = None,
    now: datetime | None = None,
    transfers: TransferGateway | None = None,
) -> dict[str, int]:
    """``autofin jobs run``: the daily jobs (one transaction), the collections, the
    reconciliation, then the payouts; how many records each step changed."""
    async with database.sessionmaker() as session, session.begin():
        done = await run_daily_jobs(session, as_of=as_of, progress=progress)
    collected = await run_collections(
        database,
        StripeCollector(gateway),
        sms or SandboxSms(),
        as_of=as_of,
        now=now or utcnow(),
        progress=progress,
    )
    done["reminders_recorded"] += collected.pop("reminders_recorded")
    done.update(collected)
    done.update(await run_reconciliation(database, gateway, progress=progress))
    done.update(
        await run_payouts(database, transfers or transfer_gateway_for(gateway), progress=progress)
    )
    return done


async def run_payouts(
    database: Database, transfers: TransferGateway, *, progress: Callable[[str], None]
) -> dict[str, int]:
    """Pay the dealers whose disbursement is still pending (an auto-funded handover, or a
    ``/fund`` whose process died after funding committed); outside any transaction."""
    paid = await payouts.pay_pending(database, transfers)
    progress(
        f"  disbursements: {paid['paid']} paid, {paid['failed']} refused by Stripe,"
        f" {paid['left']} left for later"
    )
    return {
        "disbursements_paid": paid["paid"],
        "disbursements_failed": paid["failed"],
    }


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
