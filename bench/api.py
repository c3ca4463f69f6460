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
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/http.py would shadow the
# standard library's http (imported by httpx): take the folder off, put the project on.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from autofin.main import create_app  # noqa: E402
from bench import _seed  # noqa: E402  (sets the benchmark environment; nothing reads it on import)
from marketplace.applications.bureau import sandbox_facts  # noqa: E402
from marketplace.policy import current_policy  # noqa: E402
from marketplace.products import service as product_service  # noqa: E402
from pricing import Applicant, Housing, decide, default_scorecard, match_offers  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.settings import get_settings  # noqa: E402

APPLICATIONS = 120
CONFIRMS = 40
CONTENDERS = 50
CONCURRENCY = 8


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
    async with _seed.scratch_database() as url:
        database = Database.from_url(url, pool_size=20, max_overflow=40)
        await run(database)
        await database.dispose()


async def run(database: Database) -> None:
    app = create_app(database, payment_gateway=_seed.InstantStripe())
    secret = get_settings().resolved_secret_key()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        admin = await _seed.login_admin(http, database)
        lender = await _seed.organization(http, admin, "lender", 1)
        await _seed.products(http, await _seed.api_key(http, admin, lender))
        dealer = await _seed.organization(http, admin, "dealer", 2)
        dealer_key = await _seed.api_key(http, admin, dealer)

        people = _seed.national_ids(APPLICATIONS + CONFIRMS + 1)
        buyers = await _seed.buyers(database, len(people), secret)
        print(f"{len(people)} applicants, 5 products, a stub Stripe\n")

        # Baseline: the pure decision and matching each application wraps.
        async with database.sessionmaker() as session:
            products = await product_service.matchable_products(session)
        policy, card = current_policy(), default_scorecard()

        applicant = Applicant(
            age=35,
            monthly_income=2_500_000,
            employment_months=96,
            housing=Housing.OWN,
            existing_monthly_debt=0,
        )

        def pure(index: int) -> None:
            facts = sandbox_facts(people[index % len(people)])
            decision = decide(applicant, facts, policy, card)
            if decision.grade:
                match_offers(products, decision.grade, decision.credit_limit, policy)

        started, done = time.perf_counter(), 0
        while time.perf_counter() - started < 3:
            pure(done)
            done += 1
        line("decide + match offers, in process (baseline)", done / (time.perf_counter() - started))

        def application(index: int) -> Awaitable[httpx.Response]:
            body = _seed.application_body(people[index])
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
        deals = [await _seed.deal(http, dealer_key, *approval) for approval in approvals[:CONFIRMS]]

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
        contested = [await _seed.deal(http, dealer_key, *approvals[-1]) for _ in range(CONTENDERS)]
        started = time.perf_counter()
        answers = await asyncio.gather(*(confirm(deal_id) for deal_id in contested))
        wall = (time.perf_counter() - started) * 1000
        outcomes = Counter(answer.status_code for answer in answers)
        what = f"{CONTENDERS} concurrent confirms of one approval (wall time)"
        print(f"{what:<58} {wall:>9,.0f} ms  answers {dict(sorted(outcomes.items()))}")


if __name__ == "__main__":
    asyncio.run(main())
