"""Throughput of the API's money and credit paths on real PostgreSQL, beside the pure work
they wrap, in the same run.

Run ``python bench/api.py`` (about a minute). It uses ``AUTOFIN_BENCH_DATABASE_URL`` (a server
URL; a scratch database is created and dropped on it), else ``postgresql://postgres@127.0.0.1``,
else an embedded PostgreSQL. Stripe is a stub that answers at once, so the figures are our own
cost (HTTP through the ASGI app, validation, transactions, row locks, audit), not Stripe's.

* decisions per second: ``pricing.decide`` + matching alone (the baseline) vs
  ``POST /v1/buyer/applications`` (bureau report, decision, pre-approval, locked offers),
  one client at a time and 8 at once;
* confirms per second: ``POST /v1/dealer/deals/{id}/confirm`` on separate approvals, one at a
  time and 8 at once (three committed phases each);
* contention: 50 concurrent confirms of deals on one approval — wall time and outcomes.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("AUTOFIN_SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("AUTOFIN_DATA_DIR", tempfile.mkdtemp(prefix="autofin-bench-"))
os.environ.setdefault("AUTOFIN_LOG_LEVEL", "WARNING")

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from autofin import migrate  # noqa: E402
from autofin.main import create_app  # noqa: E402
from marketplace.applications.bureau import sandbox_clean_national_id, sandbox_facts  # noqa: E402
from marketplace.applications.national_id import age_on  # noqa: E402
from marketplace.policy import current_policy  # noqa: E402
from marketplace.products import service as product_service  # noqa: E402
from pricing import (  # noqa: E402
    DEFAULT_POLICY,
    SUB_GRADES,
    Applicant,
    Housing,
    benchmark_rate,
    decide,
    match_offers,
)
from shared.db import Database, plain_url  # noqa: E402
from shared.identity.models import User, UserKind  # noqa: E402
from shared.identity.security import issue_access_token  # noqa: E402
from shared.identity.service import create_or_reset_admin  # noqa: E402
from shared.identity.uscc import uscc_check_character  # noqa: E402
from shared.payments.gateway import PaymentGateway, PaymentIntent  # noqa: E402
from shared.settings import get_settings  # noqa: E402

APPLICATIONS = 120
CONFIRMS = 40
CONTENDERS = 50
CONCURRENCY = 8
VIN = "LSVAM4187C2184847"


class InstantStripe(PaymentGateway):
    """Answers PaymentIntent creation at once, so only our own work is timed."""

    def __init__(self) -> None:
        super().__init__(api_key="sk_test_bench", api_base="http://127.0.0.1:9", webhook_secret="x")

    async def create_payment_intent(self, **kwargs: Any) -> PaymentIntent:
        return PaymentIntent(
            id=f"pi_{uuid.uuid4().hex[:14]}",
            status="requires_payment_method",
            amount=int(kwargs["amount"]),
            currency="cny",
            customer_id=None,
            client_secret="secret",
        )


def _with_database(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def _server_url() -> tuple[str, Any]:
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


async def _admin_sql(server_url: str, sql: str) -> None:
    connection = await asyncpg.connect(plain_url(_with_database(server_url, "postgres")))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def timed(
    work: Callable[[int], Awaitable[httpx.Response]], count: int, concurrency: int
) -> tuple[float, list[float]]:
    """Run ``work(0..count-1)`` with ``concurrency`` clients; per second, and each latency (ms)."""
    latencies: list[float] = []
    queue = iter(range(count))

    async def client() -> None:
        for index in queue:
            started = time.perf_counter()
            response = await work(index)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code in (200, 201), response.text

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return count / (time.perf_counter() - started), latencies


def line(what: str, rate: float, latencies: list[float] | None = None) -> None:
    extra = ""
    if latencies:
        ordered = sorted(latencies)
        p95 = ordered[int(len(ordered) * 0.95) - 1]
        extra = f"   p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms"
    print(f"{what:<58} {rate:>9,.1f}/s{extra}")


async def main() -> None:
    server_url, embedded = _server_url()
    name = f"autofin_bench_{uuid.uuid4().hex[:8]}"
    await _admin_sql(server_url, f'CREATE DATABASE "{name}"')
    url = _with_database(server_url, name)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        database = Database.from_url(url, pool_size=20, max_overflow=40)
        await run(database)
        await database.dispose()
    finally:
        await _admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if embedded is not None:
            embedded.cleanup()


async def run(database: Database) -> None:
    app = create_app(database, payment_gateway=InstantStripe())
    secret = get_settings().resolved_secret_key()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        admin = await _login_admin(http, database)
        lender = await _organization(http, admin, "lender", 1)
        lender_key = await _api_key(http, admin, lender)
        for markup in ("0", "0.005", "0.01", "0.02", "0.03"):
            body = _product(markup)
            created = await http.post("/v1/lender/products", json=body, headers=lender_key)
            assert created.status_code == 201, created.text
        dealer = await _organization(http, admin, "dealer", 2)
        dealer_key = await _api_key(http, admin, dealer)

        people: list[str] = []
        for n in range(APPLICATIONS + CONFIRMS + 1):
            born = date(1975 + n % 25, 1 + n % 12, 1)
            people.append(sandbox_clean_national_id("110105", born, exclude=people))
        buyers = await _buyers(database, len(people), secret)
        print(f"{len(people)} applicants, 5 products, a stub Stripe\n")

        # Baseline: the pure decision and matching each application wraps.
        async with database.sessionmaker() as session:
            products = await product_service.matchable_products(session)
        policy = current_policy()

        applicant = Applicant(
            age=35,
            monthly_income=2_500_000,
            employment_months=96,
            housing=Housing.OWN,
            existing_monthly_debt=0,
        )

        def pure(index: int) -> None:
            decision = decide(applicant, sandbox_facts(people[index % len(people)]), policy)
            if decision.grade:
                match_offers(products, decision.grade, decision.credit_limit, policy)

        started, done = time.perf_counter(), 0
        while time.perf_counter() - started < 3:
            pure(done)
            done += 1
        line("decide + match offers, in process (baseline)", done / (time.perf_counter() - started))

        def application(index: int) -> Awaitable[httpx.Response]:
            body = {
                "national_id": people[index],
                "age": age_on(people[index], date.today()),
                "monthly_income": 2_500_000,
                "employment_months": 96,
                "housing": "own",
                "existing_monthly_debt": 0,
                "consent": {"bureau_pull": True},
            }
            return http.post("/v1/buyer/applications", json=body, headers=buyers[index][0])

        half = APPLICATIONS // 2
        rate, latencies = await timed(application, half, 1)
        line("POST /v1/buyer/applications, 1 client", rate, latencies)
        rate, latencies = await timed(
            lambda i: application(half + i), APPLICATIONS - half, CONCURRENCY
        )
        line(f"POST /v1/buyer/applications, {CONCURRENCY} clients", rate, latencies)

        # Confirms on separate approvals.
        approvals = []
        for index in range(APPLICATIONS, APPLICATIONS + CONFIRMS + 1):
            answer = (await application(index)).json()
            approvals.append((answer["preapproval"], buyers[index][1]))
        deals = [await _deal(http, dealer_key, *approval) for approval in approvals[:CONFIRMS]]

        def confirm(deal_id: str) -> Awaitable[httpx.Response]:
            return http.post(
                f"/v1/dealer/deals/{deal_id}/confirm",
                json={"identity_verified": True},
                headers={**dealer_key, "Idempotency-Key": uuid.uuid4().hex},
            )

        half = CONFIRMS // 2
        rate, latencies = await timed(lambda i: confirm(deals[i]), half, 1)
        line("POST /v1/dealer/deals/{id}/confirm, 1 client", rate, latencies)
        rate, latencies = await timed(
            lambda i: confirm(deals[half + i]), CONFIRMS - half, CONCURRENCY
        )
        line(f"POST /v1/dealer/deals/{{id}}/confirm, {CONCURRENCY} clients", rate, latencies)

        # Contention: many deals on one approval, all confirmed at once; exactly one may win.
        contested = [await _deal(http, dealer_key, *approvals[-1]) for _ in range(CONTENDERS)]
        started = time.perf_counter()
        answers = await asyncio.gather(*(confirm(deal_id) for deal_id in contested))
        wall = (time.perf_counter() - started) * 1000
        outcomes = Counter(answer.status_code for answer in answers)
        what = f"{CONTENDERS} concurrent confirms of one approval (wall time)"
        print(f"{what:<58} {wall:>9,.0f} ms  answers {dict(sorted(outcomes.items()))}")


async def _login_admin(http: httpx.AsyncClient, database: Database) -> dict[str, str]:
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


async def _organization(http: httpx.AsyncClient, admin: dict[str, str], kind: str, n: int) -> str:
    body17 = f"9111000000000000{n}"
    body: dict[str, Any] = {"name": f"Bench {kind}", "uscc": body17 + uscc_check_character(body17)}
    if kind == "dealer":
        body |= {"city": "上海", "brands": ["BYD"]}
    return str((await http.post(f"/v1/admin/{kind}s", json=body, headers=admin)).json()["id"])


async def _api_key(
    http: httpx.AsyncClient, admin: dict[str, str], organization_id: str
) -> dict[str, str]:
    key = (
        await http.post(f"/v1/admin/organizations/{organization_id}/api-keys", headers=admin)
    ).json()["key"]
    return {"Authorization": f"Bearer {key}"}


def _product(markup: str) -> dict[str, Any]:
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


async def _buyers(database: Database, count: int, secret: str) -> list[tuple[dict[str, str], str]]:
    """Buyer accounts written directly (argon2 is deliberately slow and not what we time):
    each one's bearer header and phone."""
    users = [
        User(
            email=f"buyer{n}@bench.example",
            full_name="张三",
            phone=f"138{n:08d}",
            kind=UserKind.buyer,
        )
        for n in range(count)
    ]
    async with database.sessionmaker() as session, session.begin():
        session.add_all(users)
    tokens = [issue_access_token(u.id, master_secret=secret, minutes=60) for u in users]
    return [
        ({"Authorization": f"Bearer {t}"}, str(u.phone)) for t, u in zip(tokens, users, strict=True)
    ]


async def _deal(
    http: httpx.AsyncClient, dealer: dict[str, str], approval: dict[str, Any], phone: str
) -> str:
    body = {
        "code": approval["code"],
        "verifier": phone[-4:],
        "vehicle": {
            "vin": VIN,
            "make": "BYD",
            "model": "Han",
            "vehicle_type": "new",
            "price": 20_000_000,
        },
        "down_payment": 6_000_000,
        "term_months": 36,
        "offer_id": approval["offers"][0]["offer_id"],
    }
    response = await http.post("/v1/dealer/deals", json=body, headers=dealer)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


if __name__ == "__main__":
    asyncio.run(main())
