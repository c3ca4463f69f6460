"""What the API benchmarks share: a scratch database, and the data the measured paths need.

Both ``bench/api.py`` (in process) and ``bench/http.py`` (over real HTTP) use these; the
helpers take an ``httpx.AsyncClient``, so they work through the ASGI app or a live server.
Import this module before anything of the project: it sets the benchmark environment.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import socket
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"
os.environ.setdefault("AUTOFIN_SECRET_KEY", BENCH_SECRET_KEY)
os.environ.setdefault("AUTOFIN_DATA_DIR", tempfile.mkdtemp(prefix="autofin-bench-"))
os.environ.setdefault("AUTOFIN_LOG_LEVEL", "WARNING")

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import select  # noqa: E402

from dealer_portal.vin import numbered  # noqa: E402
from marketplace.applications.bureau import sandbox_clean_national_id  # noqa: E402
from marketplace.applications.national_id import age_on  # noqa: E402
from marketplace.preapprovals.models import LockedOffer, Preapproval  # noqa: E402
from marketplace.products.models import ProductVersion  # noqa: E402
from marketplace.servicing import service as servicing  # noqa: E402
from pricing import DEFAULT_POLICY, SUB_GRADES, benchmark_rate  # noqa: E402
from shared import pii  # noqa: E402
from shared.db import Database, plain_url  # noqa: E402
from shared.identity.models import User, UserKind  # noqa: E402
from shared.identity.principal import Principal  # noqa: E402
from shared.identity.security import issue_access_token  # noqa: E402
from shared.identity.service import create_or_reset_admin  # noqa: E402
from shared.identity.uscc import uscc_check_character  # noqa: E402
from shared.payments.gateway import (  # noqa: E402
    Customer,
    PaymentGateway,
    PaymentIntent,
    SavedPaymentMethod,
)

# BYD cars (WMI LGX), each with its own VIN: a car backs one live loan. Offset by the process
# so that two seeding runs against one database do not collide.
_CARS = itertools.count(secrets.randbelow(10**9) * 1000)
Headers = dict[str, str]


# -- the scratch database ------------------------------------------------------------------------


def with_database(server_url: str, name: str) -> str:
    """``server_url`` pointing at the database ``name``."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def server_url() -> tuple[str, Any]:
    """``AUTOFIN_BENCH_DATABASE_URL``, else the local server on 5432, else an embedded one;
    the URL and the embedded server to clean up (or None)."""
    configured = os.environ.get("AUTOFIN_BENCH_DATABASE_URL")
    if configured:
        return configured, None
    try:
        socket.create_connection(("127.0.0.1", 5432), 1).close()
        return "postgresql://postgres@127.0.0.1:5432/postgres", None
    except OSError:
        from autofin.embedded import start_embedded_postgres

        server, url = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="autofin-bench-pg-")))
        return url, server


async def admin_sql(server_url: str, sql: str) -> None:
    connection = await asyncpg.connect(plain_url(with_database(server_url, "postgres")))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A fresh, migrated database on the benchmark server, dropped (and any embedded server
    stopped) on the way out; yields its URL."""
    from autofin import migrate

    url_of_server, embedded = server_url()
    name = f"autofin_bench_{uuid.uuid4().hex[:8]}"
    await admin_sql(url_of_server, f'CREATE DATABASE "{name}"')
    try:
        url = with_database(url_of_server, name)
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        await admin_sql(url_of_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if embedded is not None:
            embedded.cleanup()


# -- organisations and products ------------------------------------------------------------------


async def login_admin(http: httpx.AsyncClient, database: Database) -> Headers:
    async with database.sessionmaker() as session, session.begin():
        await create_or_reset_admin(
            session, email="bench@autofin.example", password="bench-password"
        )
    token = (
        await http.post(
            "/v1/auth/token",
            data={"username": "bench@autofin.example", "password": "bench-password"},
        )
    ).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


async def organization(http: httpx.AsyncClient, admin: Headers, kind: str, n: int) -> str:
    body17 = f"9111000000000000{n}"
    body: dict[str, Any] = {"name": f"Bench {kind}", "uscc": body17 + uscc_check_character(body17)}
    if kind == "dealer":
        body |= {"city": "上海", "brands": ["BYD"]}
    return str((await http.post(f"/v1/admin/{kind}s", json=body, headers=admin)).json()["id"])


async def api_key(http: httpx.AsyncClient, admin: Headers, organization_id: str) -> Headers:
    key = (
        await http.post(f"/v1/admin/organizations/{organization_id}/api-keys", headers=admin)
    ).json()["key"]
    return {"Authorization": f"Bearer {key}"}


def product_body(markup: str) -> dict[str, Any]:
    """A product at every grade's fair benchmark plus ``markup``, within the legal cap."""
    cap = DEFAULT_POLICY.legal_cap_apr
    rates = {g: min(benchmark_rate(g, DEFAULT_POLICY) + Decimal(markup), cap) for g in SUB_GRADES}
    return {
        "name": f"Bench loan +{markup}",
        "method": "equal_installment",
        "terms_months": [12, 24, 36, 48, 60],
        "min_amount": 2_000_000,
        "max_amount": 50_000_000,
        "max_ltv": "0.8",
        "min_down_payment_ratio": "0.2",
        "upfront_fee": 0,
        "vehicle_types": ["new", "used"],
        "platform_guarantee": False,
        "rate_card": {grade: str(rate) for grade, rate in rates.items()},
    }


MARKUPS = ("0", "0.005", "0.01", "0.02", "0.03")


async def products(http: httpx.AsyncClient, lender: Headers) -> None:
    """Five products, one per markup in ``MARKUPS``."""
    for markup in MARKUPS:
        created = await http.post("/v1/lender/products", json=product_body(markup), headers=lender)
        assert created.status_code == 201, created.text


# -- buyers, applications, deals -----------------------------------------------------------------


def national_ids(count: int) -> list[str]:
    """``count`` distinct valid national IDs with clean sandbox bureau files (approvals do not
    depend on chance), deterministic."""
    people: list[str] = []
    issued: set[str] = set()
    for n in range(count):
        born = date(1975 + n % 25, 1 + n % 12, 1)
        number = sandbox_clean_national_id("110105", born, exclude=issued)
        issued.add(number)
        people.append(number)
    return people


def application_body(national_id: str) -> dict[str, Any]:
    return {
        "national_id": national_id,
        "age": age_on(national_id, date.today()),
        "monthly_income": 2_500_000,
        "employment_months": 96,
        "housing": "own",
        "existing_monthly_debt": 0,
        "consent": {"bureau_pull": True, "share_with_lenders": True},
    }


async def buyers(
    database: Database, count: int, secret: str, *, first: int = 0, minutes: int = 60
) -> list[tuple[Headers, str]]:
    """Buyer accounts ``first … first+count-1`` written directly (argon2 is deliberately slow
    and not what we time): each one's bearer header and phone."""
    phones = [f"138{n:08d}" for n in range(first, first + count)]
    users = [
        User(
            email=f"buyer{n}@bench.example",
            full_name="张三",
            phone_encrypted=pii.encrypt(phone),
            phone_hash=pii.lookup_hash(phone),
            kind=UserKind.buyer,
        )
        for n, phone in zip(range(first, first + count), phones, strict=True)
    ]
    async with database.sessionmaker() as session, session.begin():
        session.add_all(users)
    tokens = [issue_access_token(u.id, master_secret=secret, minutes=minutes) for u in users]
    return [({"Authorization": f"Bearer {t}"}, p) for t, p in zip(tokens, phones, strict=True)]


def deal_body(approval: dict[str, Any], phone: str) -> dict[str, Any]:
    """A new car on the approval's first (cheapest) offer, verified by the buyer's phone."""
    return {
        "code": approval["code"],
        "verifier": phone[-4:],
        "vehicle": {
            "vin": numbered(next(_CARS)),
            "make": "BYD",
            "model": "Han",
            "vehicle_type": "new",
            "price": 20_000_000,
        },
        "down_payment": 6_000_000,
        "term_months": 36,
        "offer_id": approval["offers"][0]["offer_id"],
    }


async def deal(
    http: httpx.AsyncClient, dealer: Headers, approval: dict[str, Any], phone: str
) -> str:
    response = await http.post("/v1/dealer/deals", json=deal_body(approval, phone), headers=dealer)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def book_loans(
    database: Database,
    dealer_id: str,
    preapprovals: list[dict[str, Any]],
    *,
    principal: int,
    term_months: int,
) -> list[str]:
    """A loan on each approval's first locked offer, booked and activated through the servicing
    service in batches (what confirm and the handover do, without the deal around them)."""
    actor = Principal(role="dealer", user_id=uuid.uuid4(), organization_id=uuid.UUID(dealer_id))
    loan_ids: list[str] = []
    for start in range(0, len(preapprovals), 50):
        async with database.sessionmaker() as session, session.begin():
            for preapproval in preapprovals[start : start + 50]:
                offer_id = uuid.UUID(preapproval["offers"][0]["offer_id"])
                offer = (
                    await session.execute(select(LockedOffer).where(LockedOffer.id == offer_id))
                ).scalar_one()
                version = await session.get(ProductVersion, offer.product_version_id)
                assert version is not None
                record = await session.get(Preapproval, uuid.UUID(preapproval["id"]))
                assert record is not None
                loan = await servicing.book_loan(
                    session,
                    actor,
                    preapproval_id=record.id,
                    offer_id=offer.id,
                    product_version_id=offer.product_version_id,
                    lender_id=offer.lender_id,
                    buyer_id=record.buyer_id,
                    dealer_id=uuid.UUID(dealer_id),
                    principal=min(principal, offer.amount),
                    annual_rate=offer.annual_rate,
                    term_months=term_months,
                    method=version.method,
                    upfront_fee=version.upfront_fee,
                    grade=record.grade,
                    platform_guarantee=version.platform_guarantee,
                    auto_fund=version.auto_fund,
                    loan_date=date.today(),
                    vehicle={
                        "vin": numbered(next(_CARS)),
                        "make": "BYD",
                        "model": "Han",
                        "price": 15_000_000,
                    },
                )
                activated = await servicing.activate_at_handover(session, actor, loan.id)
                assert activated is not None, "bench products auto-fund"
                loan_ids.append(str(loan.id))
    return loan_ids


# -- Stripe, answered at once ----------------------------------------------------------------------


class InstantStripe(PaymentGateway):
    """Answers at once, as Stripe would for a card that always pays, so only our own work is
    timed: customers, saved cards, PaymentIntents (confirming one succeeds)."""

    def __init__(self) -> None:
        super().__init__(api_key="sk_test_bench", api_base="http://127.0.0.1:9", webhook_secret="x")
        self.amounts: dict[str, int] = {}

    async def create_customer(self, **kwargs: Any) -> Customer:
        return Customer(id=f"cus_{uuid.uuid4().hex[:14]}")

    async def attach_payment_method(
        self, *, customer_id: str, payment_method_id: str
    ) -> SavedPaymentMethod:
        return SavedPaymentMethod(
            id=f"pm_{uuid.uuid4().hex[:14]}",
            customer_id=customer_id,
            card_brand="visa",
            card_last4="4242",
        )

    async def create_payment_intent(self, **kwargs: Any) -> PaymentIntent:
        intent = PaymentIntent(
            id=f"pi_{uuid.uuid4().hex[:14]}",
            status="requires_payment_method",
            amount=int(kwargs["amount"]),
            currency="cny",
            customer_id=kwargs.get("customer_id"),
            client_secret="secret",
        )
        self.amounts[intent.id] = intent.amount
        return intent

    def _intent(self, payment_intent_id: str, status: str) -> PaymentIntent:
        return PaymentIntent(
            id=payment_intent_id,
            status=status,
            amount=self.amounts.get(payment_intent_id, 1),
            currency="cny",
            customer_id=None,
            client_secret="secret",
        )

    async def confirm_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str
    ) -> PaymentIntent:
        return self._intent(payment_intent_id, "succeeded")

    async def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        """Down payments are never paid here (no buyer pays them), so the reconciliation
        finds nothing to hand over."""
        return self._intent(payment_intent_id, "requires_payment_method")

    async def cancel_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str
    ) -> PaymentIntent:
        return self._intent(payment_intent_id, "canceled")
