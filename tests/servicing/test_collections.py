"""Collections on committed data, real PostgreSQL and the Stripe emulator: mandates and
automatic debits through ``autofin jobs run``'s steps, retries, reminders, late fees under the
APR cap, charge-off paying the platform guarantee, and the collection queue."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, get_args

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from autofin.jobs import run_all
from autofin.main import create_app
from marketplace.collections import repository as collections_repository
from marketplace.collections.models import (
    DebitAttempt,
    GuaranteeClaim,
    GuaranteeEntry,
    Notice,
    NoticeKind,
)
from marketplace.collections.schemas import PastDueBucket
from marketplace.servicing import repository
from marketplace.servicing.models import Bucket, LedgerEntry, Loan, LoanPayment
from pricing.irr import annualise, solve_monthly_irr
from shared import pii
from shared.db import Database
from shared.identity.models import User
from shared.identity.sms import SandboxSms
from shared.payments.gateway import PaymentGateway
from shared.settings import get_settings
from tests.factories import PASSWORD, admin_headers, login, unique_email
from tests.servicing.conftest import Booked, all_loans_reconcile, book, days_ago, pay, today
from tests.stripe_fixtures import LocalStripe

DAYTIME = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # 11:00 in China
NIGHT = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 23:00 in China


@pytest.fixture
def committed_app(committed_database: Database) -> FastAPI:
    return create_app(committed_database)


@pytest.fixture
async def http(committed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=committed_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def gateway() -> AsyncIterator[PaymentGateway]:
    gateway = PaymentGateway.from_settings(get_settings())
    yield gateway
    await gateway.aclose()


def test_the_queue_names_servicings_past_due_buckets() -> None:
    """The queue's bucket filter and items are spelled as a Literal (an inline enum in the
    document); they must stay servicing's ``Bucket`` values, less ``current``."""
    assert get_args(PastDueBucket) == tuple(b.value for b in Bucket if b is not Bucket.current)


async def booked_loan(http: httpx.AsyncClient, database: Database, **options: Any) -> Booked:
    async with database.sessionmaker() as session:
        return await book(http, session, **options)


async def save_card(http: httpx.AsyncClient, buyer: dict[str, str], payment_method: str) -> None:
    response = await http.post(
        "/v1/buyer/payment-methods", json={"payment_method": payment_method}, headers=buyer
    )
    assert response.status_code == 201, response.text


async def due_dates(http: httpx.AsyncClient, booked: Booked) -> list[date]:
    loan = (await http.get(f"/v1/buyer/loans/{booked.loan_id}", headers=booked.buyer)).json()
    return [date.fromisoformat(row["due_date"]) for row in loan["schedule"]]


async def count(database: Database, model: Any, *where: Any) -> int:
    async with database.sessionmaker() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )


async def test_a_mandate_pays_three_due_dates_automatically_once_each_even_run_concurrently(
    http: httpx.AsyncClient,
    committed_database: Database,
    gateway: PaymentGateway,
    localstripe: LocalStripe,
) -> None:
    booked = await booked_loan(http, committed_database, loan_date=today())
    await save_card(http, booked.buyer, await localstripe.create_card_payment_method())
    path = f"/v1/buyer/loans/{booked.loan_id}/mandate"
    mandate = await http.post(path, json={}, headers={**booked.buyer, "Accept-Language": "en"})
    assert mandate.status_code == 201, mandate.text
    assert mandate.json()["card_last4"] == "4242" and "4242" in mandate.json()["agreed_text"]
    assert mandate.json()["locale"] == "en"
    sms = SandboxSms()

    async def jobs(as_of: date) -> dict[str, int]:
        return await run_all(
            committed_database, gateway, as_of=as_of, progress=lambda _: None, sms=sms, now=DAYTIME
        )

    dues = await due_dates(http, booked)
    for n, due in enumerate(dues[:3], start=1):
        assert (await jobs(due - timedelta(days=3)))["debits_made"] == 0  # reminded, not yet due
        runs = await asyncio.gather(jobs(due), jobs(due))  # two `jobs run` at once
        again = await jobs(due)
        assert sum(r["debits_collected"] for r in runs) == 1 and again["debits_made"] == 0
        loan = (await http.get(f"/v1/buyer/loans/{booked.loan_id}", headers=booked.buyer)).json()
        assert [row["status"] for row in loan["schedule"][:n]] == ["paid"] * n
        assert loan["schedule"][n]["status"] == "due" and loan["days_past_due"] == 0
    assert await count(committed_database, DebitAttempt) == 3
    assert await count(committed_database, LoanPayment, col(LoanPayment.status) == "succeeded") == 3
    intents = [
        i
        for i in await localstripe.list_payment_intents()
        if i["metadata"].get("loan_id") == str(booked.loan_id)
    ]
    assert len(intents) == 3 and all(i["status"] == "succeeded" for i in intents)
    async with committed_database.sessionmaker() as session:
        assert await all_loans_reconcile(session) == 1
    view = (await http.get(path, headers=booked.buyer)).json()
    assert [a["status"] for a in view["attempts"]] == ["succeeded"] * 3
    # An upcoming reminder before each due date, recorded once, in the mandate's language.
    async with committed_database.sessionmaker() as session:
        upcoming = (
            (await session.execute(select(Notice).where(col(Notice.kind) == "upcoming")))
            .scalars()
            .all()
        )
    assert len(upcoming) == 3 and all(n.status == "sent" for n in upcoming)
    assert all(n.body.startswith("[Autofin]") for n in upcoming)

    revoked = await http.delete(path, headers=booked.buyer)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert (await jobs(dues[3]))["debits_made"] == 0  # revoked: the buyer pays by hand now
    assert (await http.delete(path, headers=booked.buyer)).json()["error"]["code"] == (
        "mandate_not_found"
    )


async def test_a_declined_card_is_retried_on_schedule_until_the_buyer_pays_by_hand(
    http: httpx.AsyncClient,
    committed_database: Database,
    gateway: PaymentGateway,
    localstripe: LocalStripe,
) -> None:
    booked = await booked_loan(http, committed_database, loan_date=today())
    await save_card(http, booked.buyer, "pm_card_chargeCustomerFail")  # attaches, never charges
    assert (
        await http.post(f"/v1/buyer/loans/{booked.loan_id}/mandate", json={}, headers=booked.buyer)
    ).status_code == 201
    sms = SandboxSms()

    async def jobs(as_of: date, now: datetime = DAYTIME) -> dict[str, int]:
        return await run_all(
            committed_database, gateway, as_of=as_of, progress=lambda _: None, sms=sms, now=now
        )

    due = (await due_dates(http, booked))[0]
    declined = {}
    for day in range(6):
        declined[day] = (await jobs(due + timedelta(days=day), now=NIGHT))["debits_declined"]
    # On the due date, +1 and +3 (the product's default schedule); never twice a day.
    assert [day for day, count in declined.items() if count] == [0, 1, 3]
    assert (await jobs(due + timedelta(days=3), now=NIGHT))["debits_made"] == 0

    # The buyer pays by hand with another card before the +7 retry: none follows.
    await save_card(http, booked.buyer, await localstripe.create_card_payment_method())
    paid = await pay(http, booked.buyer, booked.loan_id, {"installments": 1})
    assert paid.status_code == 201 and paid.json()["status"] == "succeeded", paid.text
    for day in (7, 8):
        assert (await jobs(due + timedelta(days=day)))["debits_made"] == 0
    assert await count(committed_database, DebitAttempt) == 3
    loan = (await http.get(f"/v1/buyer/loans/{booked.loan_id}", headers=booked.buyer)).json()
    assert loan["schedule"][0]["status"] == "paid" and loan["schedule"][0]["late_fee_paid"] > 0

    # The reminders waited for daytime, then each was sent once: one per failure, one when the
    # instalment went late (past the 3-day grace).
    async with committed_database.sessionmaker() as session:
        notices = (await session.execute(select(Notice))).scalars().all()
        user = await session.get(User, (await session.get(Loan, booked.loan_id)).buyer_id)  # type: ignore[union-attr]
        assert user is not None and user.phone_encrypted is not None
        phone = pii.decrypt(user.phone_encrypted)
        assert await all_loans_reconcile(session) == 1
    assert sorted(n.kind for n in notices) == ["debit_failed"] * 3 + ["late"]
    assert all(n.status == "sent" for n in notices)
    assert len(sms.notices_to(phone)) == len(notices)
    assert all("自动扣款" in n.body for n in notices if n.kind == "debit_failed")
    reminders = (
        await http.get(f"/v1/buyer/loans/{booked.loan_id}/reminders", headers=booked.buyer)
    ).json()
    assert len(reminders) == len(notices)


async def test_late_fees_follow_the_product_and_never_push_the_apr_over_the_cap(
    http: httpx.AsyncClient, committed_database: Database, gateway: PaymentGateway
) -> None:
    # A greedy product: 1 % of what is overdue, every day (over 365 % a year).
    greedy = {"late_fee": {"kind": "daily_rate", "rate": "0.01"}, "grace_days": 0}
    booked = await booked_loan(
        http, committed_database, loan_date=days_ago(120), collections=greedy
    )
    for day in (100, 80, 60, 30, 0):
        await run_all(
            committed_database,
            gateway,
            as_of=today() - timedelta(days=day),
            progress=lambda _: None,
            sms=SandboxSms(),
            now=NIGHT,
        )
    loan = (await http.get(f"/v1/buyer/loans/{booked.loan_id}", headers=booked.buyer)).json()
    fees = [row["late_fee"] for row in loan["schedule"]]
    assert sum(fees) > 0
    async with committed_database.sessionmaker() as session:
        held = await session.get(Loan, booked.loan_id)
        assert held is not None
        fee_keys = (
            (
                await session.execute(
                    select(col(LedgerEntry.entry_key)).where(
                        col(LedgerEntry.loan_id) == booked.loan_id,
                        col(LedgerEntry.entry_type) == "late_fee",
                    )
                )
            )
            .scalars()
            .all()
        )
        assert len(fee_keys) >= 2 and all(key.count(":") == 2 for key in fee_keys)  # per day
        assert await all_loans_reconcile(session) == 1
    flows = [row["payment"] + row["late_fee"] for row in loan["schedule"]]
    apr, _ = annualise(solve_monthly_irr(held.principal - held.upfront_fee, flows))
    assert Decimal("0.2399") < apr <= Decimal("0.24")  # the cap binds, and holds
    payoff = await http.get(f"/v1/buyer/loans/{booked.loan_id}/payoff", headers=booked.buyer)
    assert payoff.json()["fees"] == sum(fees)


async def test_a_guaranteed_loan_charged_off_pays_one_claim_with_both_ledgers_balanced(
    http: httpx.AsyncClient,
    committed_database: Database,
    gateway: PaymentGateway,
    localstripe: LocalStripe,
) -> None:
    booked = await booked_loan(
        http,
        committed_database,
        loan_date=days_ago(215),
        platform_guarantee=True,
        collections={"charge_off_days": 150},
    )

    async def jobs() -> dict[str, int]:
        return await run_all(
            committed_database, gateway, as_of=today(), progress=lambda _: None, sms=SandboxSms()
        )

    runs = await asyncio.gather(jobs(), jobs())
    assert sum(r["loans_charged_off"] for r in runs) == 1
    assert sum(r["guarantee_provisions"] for r in runs) == 1
    async with committed_database.sessionmaker() as session:
        claims = (await session.execute(select(GuaranteeClaim))).scalars().all()
        assert len(claims) == 1
        claim = claims[0]
        entries = {
            e.entry_key: e.amount for e in await repository.ledger_entries(session, booked.loan_id)
        }
        platform = {
            e.entry_key: e.amount
            for e in (await session.execute(select(GuaranteeEntry))).scalars().all()
        }
        loan = await session.get(Loan, booked.loan_id)
        assert loan is not None
    assert entries["guarantee_claim"] == -claim.amount == platform[f"claim:{booked.loan_id}"]
    assert claim.amount == claim.principal + claim.interest > 0
    assert sum(entries.values()) == 0  # the lender's books: nothing left on the loan
    assert platform[f"provision:{booked.loan_id}"] == loan.principal * 5 // 100

    async with committed_database.sessionmaker() as session:
        admin = await admin_headers(http, session)
    view = (await http.get("/v1/admin/guarantee", headers=admin)).json()
    assert view["claims_count"] == 1 and view["claims_paid"] == claim.amount
    assert view["reserve"]["balance"] == loan.principal * 5 // 100 - claim.amount
    portfolio = (await http.get("/v1/lender/portfolio", headers=booked.lender)).json()
    assert portfolio["guarantee_claims_paid"] == claim.amount
    assert portfolio["guarantee_claims_count"] == 1

    # A recovery afterwards: credited to the loan, owed to the platform that paid the claim.
    await save_card(http, booked.buyer, await localstripe.create_card_payment_method())
    paid = await pay(http, booked.buyer, booked.loan_id, {"installments": 1})
    assert paid.status_code == 201 and paid.json()["status"] == "succeeded", paid.text
    await jobs()
    await jobs()
    async with committed_database.sessionmaker() as session:
        assert await repository.ledger_balance(session, booked.loan_id) == 0
        assert await all_loans_reconcile(session) == 1
    view = (await http.get("/v1/admin/guarantee", headers=admin)).json()
    assert view["reserve"]["recovered"] == paid.json()["amount"]


async def test_the_lender_works_its_collection_queue_with_notes_and_promises(
    http: httpx.AsyncClient, committed_database: Database, gateway: PaymentGateway
) -> None:
    late = await booked_loan(http, committed_database, loan_date=days_ago(75))
    await run_all(
        committed_database, gateway, as_of=today(), progress=lambda _: None, sms=SandboxSms()
    )
    queue = (await http.get("/v1/lender/collections", headers=late.lender)).json()
    assert queue["total"] == 1 and queue["buckets"]["31-60"]["count"] == 1
    item = queue["items"][0]
    assert item["loan_id"] == str(late.loan_id) and item["bucket"] == "31-60"
    assert (
        item["overdue_amount"] > 0
        and item["late_fees"] > 0
        and "****" in item["buyer"]["phone_masked"]
    )
    path = f"/v1/lender/collections/{late.loan_id}"
    note = await http.post(
        f"{path}/notes", json={"text": "Called; will pay Friday"}, headers=late.lender
    )
    assert note.status_code == 201, note.text
    promise = await http.post(
        f"{path}/promises",
        json={"amount": item["overdue_amount"], "promised_on": str(today() + timedelta(days=3))},
        headers=late.lender,
    )
    assert promise.status_code == 201 and promise.json()["kind"] == "promise"
    bad = await http.post(
        f"{path}/promises", json={"amount": -1, "promised_on": "x"}, headers=late.lender
    )
    assert bad.status_code == 422
    history = (await http.get(path, headers=late.lender)).json()
    assert [n["kind"] for n in history["notes"]] == ["promise", "note"]
    assert {n["kind"] for n in history["notices"]} >= {"late", "bureau_notice"}
    queue = (await http.get("/v1/lender/collections?bucket=31-60", headers=late.lender)).json()
    assert queue["items"][0]["promise"]["promised_amount"] == item["overdue_amount"]

    other = await booked_loan(http, committed_database, loan_date=today())
    assert (await http.get(path, headers=other.lender)).status_code == 404
    assert (await http.get("/v1/lender/collections", headers=other.lender)).json()["total"] == 0
    mandate = await http.post(
        f"/v1/buyer/loans/{late.loan_id}/mandate", json={}, headers=other.buyer
    )
    assert mandate.status_code == 404  # another buyer's loan
    no_card = await http.post(
        f"/v1/buyer/loans/{late.loan_id}/mandate", json={}, headers=late.buyer
    )
    assert no_card.status_code == 409 and no_card.json()["error"]["code"] == "no_payment_method"
    unknown = await http.post(
        f"/v1/buyer/loans/{late.loan_id}/mandate", json={"card": "x"}, headers=late.buyer
    )
    assert unknown.status_code == 422
    refused = await http.post(
        f"/v1/buyer/loans/{late.loan_id}/mandate",
        json={"payment_method": "pm_never_issued"},
        headers=late.buyer,
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "payment_method_rejected"
    assert refused.json()["error"]["field"] == "payment_method"


async def test_an_advisor_follows_up_only_their_buyers_guaranteed_loans(
    http: httpx.AsyncClient, committed_database: Database, gateway: PaymentGateway
) -> None:
    async with committed_database.sessionmaker() as session:
        admin = await admin_headers(http, session)
    email = unique_email("advisor")
    created = await http.post(
        "/v1/admin/advisors",
        json={"email": email, "password": PASSWORD, "full_name": "顾问"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    advisor = await login(http, email)
    guaranteed = await booked_loan(
        http, committed_database, admin=admin, loan_date=days_ago(75), platform_guarantee=True
    )
    await booked_loan(http, committed_database, admin=admin, loan_date=days_ago(75))
    await run_all(
        committed_database, gateway, as_of=today(), progress=lambda _: None, sms=SandboxSms()
    )
    queue = (await http.get("/v1/advisor/collections", headers=advisor)).json()
    assert [item["loan_id"] for item in queue["items"]] == [str(guaranteed.loan_id)]
    history = await http.get(f"/v1/advisor/collections/{guaranteed.loan_id}", headers=advisor)
    assert history.status_code == 200 and history.json()["notices"]
    assert (await http.get("/v1/advisor/collections", headers=guaranteed.buyer)).status_code == 403


async def test_reminders_over_a_whole_book_name_every_loan_in_one_parameter(
    session: AsyncSession,
) -> None:
    # 200,000 loans once named 60,000 of them as parameters, past asyncpg's 32,767 limit.
    many = [uuid.uuid4() for _ in range(40_000)]
    assert await collections_repository.mandate_locales(session, many) == {}
    assert await collections_repository.phones_of(session, many) == {}


async def test_a_whole_books_notices_are_recorded_in_batches_each_once(
    http: httpx.AsyncClient, committed_database: Database
) -> None:
    # 200,000 loans once made one INSERT of 60,000 notices bind ten parameters each, past
    # asyncpg's 32,767, and `jobs run` failed there; 4,000 notices take two statements.
    async with committed_database.sessionmaker() as session:
        admin = await admin_headers(http, session)
    booked = await booked_loan(http, committed_database, admin=admin)
    async with committed_database.sessionmaker() as session:
        loan = await session.get(Loan, booked.loan_id)
        assert loan is not None
        notices = [
            collections_repository.NewNotice(
                notice_key=f"upcoming:{loan.id}:{n}",
                loan_id=loan.id,
                buyer_id=loan.buyer_id,
                kind=NoticeKind.upcoming,
                locale="zh-CN",
                body="还款提醒",
            )
            for n in range(4_000)
        ]
        assert await collections_repository.record_notices(session, notices) == 4_000
        assert await collections_repository.record_notices(session, notices[::-1]) == 0
        await session.rollback()  # nothing of it stays for the other tests on this database
