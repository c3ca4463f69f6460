"""The hot paths and the daily jobs on an empty database and on a big one, side by side.

Run ``python bench/scale.py`` (about 10 minutes on a 2-core machine, most of it copying the
data in; ``--preapprovals/--loans/--products`` scale it down). On a scratch database (see
``bench/_seed.py`` for which server) it:

1. times each hot path in process (HTTP through the ASGI app, one client, Stripe answered at
   once) on the empty database, twice: application, look-up, deal quote, confirm, repayment, a
   buyer's loan, the lender's loan list and portfolio, the dealer's pipeline;
2. copies in 1,000,000 pre-approvals, 200,000 loans with their instalments, ledgers,
   repayments and deals, and 10,000 product versions (``bench/_bulk.py``);
3. times the same paths again, twice, and prints ``path | empty | seeded | ratio``;
4. shows ``EXPLAIN (ANALYZE, BUFFERS)`` of every statement one request of each path sends
   (caught with a ``before_cursor_execute`` listener), flagging sequential scans of big tables;
5. runs ``autofin jobs run``'s work (the daily jobs, then the reconciliation) over the 200,000
   loans with its progress lines, times it, runs it again, and explains its statements too.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Running a file in bench/ puts that folder first on sys.path, where bench/http.py would stand in
# for the standard library's ``http``: take the folder off.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import event  # noqa: E402

from autofin.jobs import run_daily_jobs, run_reconciliation  # noqa: E402
from autofin.main import create_app  # noqa: E402
from bench import _bulk, _seed  # noqa: E402  (_seed sets the benchmark environment)
from shared.db import Database, plain_url  # noqa: E402
from shared.settings import get_settings  # noqa: E402

PATHS = {
    "application": "POST /v1/buyer/applications",
    "lookup": "POST /v1/dealer/lookups",
    "quote": "POST /v1/dealer/deals",
    "confirm": "POST /v1/dealer/deals/{id}/confirm",
    "repayment": "POST /v1/buyer/loans/{id}/payments",
    "loan": "GET /v1/buyer/loans/{id}",
    "lender_loans": "GET /v1/lender/loans",
    "portfolio": "GET /v1/lender/portfolio",
    "pipeline": "GET /v1/dealer/deals",
}
BIG_TABLES = frozenset(
    {
        "users",
        "advisor_assignments",
        "applications",
        "preapprovals",
        "preapproval_offers",
        "products",
        "product_versions",
        "loans",
        "loan_installments",
        "loan_payments",
        "loan_ledger",
        "dealer_deals",
        "audit_log",
    }
)
LOAN_PRINCIPAL = 10_000_000
LOAN_TERM = 12


# -- the statements a request sends ---------------------------------------------------------------


class Recorder:
    """Keeps each distinct statement the engine sends while ``recording`` names a path, and
    counts every statement and commit while ``counting`` names one (round trips per request)."""

    def __init__(self, database: Database) -> None:
        self.recording: str | None = None
        self.counting: str | None = None
        self.statements: dict[str, dict[str, tuple[Any, ...]]] = {}
        self.sent: dict[str, int] = {}
        self.commits: dict[str, int] = {}
        self.requests: dict[str, int] = {}
        event.listen(database.engine.sync_engine, "before_cursor_execute", self._heard)
        event.listen(database.engine.sync_engine, "commit", self._committed)

    def per_request(self, path: str) -> tuple[float, float]:
        """Statements and commits per request of ``path`` (over every request timed)."""
        requests = max(self.requests.get(path, 0), 1)
        return self.sent.get(path, 0) / requests, self.commits.get(path, 0) / requests

    def _committed(self, conn: Any) -> None:
        if self.counting is not None:
            self.commits[self.counting] = self.commits.get(self.counting, 0) + 1

    def _heard(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if self.counting is not None:
            self.sent[self.counting] = self.sent.get(self.counting, 0) + 1
        if self.recording is None or executemany:
            return
        heard = self.statements.setdefault(self.recording, {})
        heard.setdefault(statement, tuple(parameters or ()))


# -- the world the paths run in -------------------------------------------------------------------


@dataclass
class World:
    http: httpx.AsyncClient
    database: Database
    recorder: Recorder
    lender: _seed.Headers
    lender_id: str
    dealer: _seed.Headers
    dealer_id: str
    people: list[str]
    buyers: list[tuple[_seed.Headers, str]]
    taken: int = 0
    deal_quote: str = "{}"

    def fresh(self, count: int) -> list[tuple[_seed.Headers, str, str]]:
        """``count`` buyers never used before: (bearer header, phone, national ID)."""
        start, self.taken = self.taken, self.taken + count
        return [
            (self.buyers[i][0], self.buyers[i][1], self.people[i]) for i in range(start, self.taken)
        ]


@dataclass
class Timings:
    ms: dict[str, list[float]] = field(default_factory=dict)

    def p50(self, path: str) -> float:
        return statistics.median(self.ms[path])


async def measure(world: World, requests: int, record: bool) -> Timings:
    """Each path ``requests`` times, one request at a time; with ``record``, the statements of
    each path's first request are kept for EXPLAIN."""
    http, timings = world.http, Timings()

    async def timed(path: str, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        first = record and path not in timings.ms
        world.recorder.recording = path if first else None
        world.recorder.counting = path
        started = time.perf_counter()
        response = await send()
        elapsed = (time.perf_counter() - started) * 1000
        world.recorder.recording = world.recorder.counting = None
        world.recorder.requests[path] = world.recorder.requests.get(path, 0) + 1
        assert response.status_code in (200, 201), (path, response.status_code, response.text)
        timings.ms.setdefault(path, []).append(elapsed)
        return response

    approved: list[tuple[dict[str, Any], str]] = []
    for headers, phone, national_id in world.fresh(requests):
        body = _seed.application_body(national_id)
        answer = await timed(
            "application",
            lambda b=body, h=headers: http.post("/v1/buyer/applications", json=b, headers=h),
        )
        approved.append((answer.json()["preapproval"], phone))
    for preapproval, phone in approved:
        body = {"code": preapproval["code"], "verifier": phone[-4:]}
        await timed(
            "lookup", lambda b=body: http.post("/v1/dealer/lookups", json=b, headers=world.dealer)
        )
    deals: list[str] = []
    for preapproval, phone in approved:
        body = _seed.deal_body(preapproval, phone)
        answer = await timed(
            "quote", lambda b=body: http.post("/v1/dealer/deals", json=b, headers=world.dealer)
        )
        deals.append(answer.json()["id"])
    for deal_id in deals:
        headers = world.dealer | {"Idempotency-Key": uuid.uuid4().hex}
        await timed(
            "confirm",
            lambda d=deal_id, h=headers: http.post(
                f"/v1/dealer/deals/{d}/confirm", json={"identity_verified": True}, headers=h
            ),
        )

    # Loans to repay and read: booked on approvals of their own, with a saved card each.
    borrowers = world.fresh(requests)
    preapprovals = []
    for headers, _, national_id in borrowers:
        body = _seed.application_body(national_id)
        answer = await http.post("/v1/buyer/applications", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        preapprovals.append(answer.json()["preapproval"])
        saved = await http.post(
            "/v1/buyer/payment-methods", json={"payment_method": "pm_card_visa"}, headers=headers
        )
        assert saved.status_code == 201, saved.text
    loan_ids = await _seed.book_loans(
        world.database,
        world.dealer_id,
        preapprovals,
        principal=LOAN_PRINCIPAL,
        term_months=LOAN_TERM,
    )
    for (headers, _, _), loan_id in zip(borrowers, loan_ids, strict=True):
        await timed(
            "loan", lambda h=headers, i=loan_id: http.get(f"/v1/buyer/loans/{i}", headers=h)
        )
    for (headers, _, _), loan_id in zip(borrowers, loan_ids, strict=True):
        with_key = headers | {"Idempotency-Key": uuid.uuid4().hex}
        await timed(
            "repayment",
            lambda h=with_key, i=loan_id: http.post(
                f"/v1/buyer/loans/{i}/payments", json={"installments": 1}, headers=h
            ),
        )
    for _ in range(requests):
        await timed("lender_loans", lambda: http.get("/v1/lender/loans", headers=world.lender))
    for _ in range(requests):
        await timed("portfolio", lambda: http.get("/v1/lender/portfolio", headers=world.lender))
    for _ in range(requests):
        await timed("pipeline", lambda: http.get("/v1/dealer/deals", headers=world.dealer))
    return timings


# -- EXPLAIN -------------------------------------------------------------------------------------

SCAN = re.compile(r"(Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan)(?: using \S+)? on (\w+)")


async def explain(url: str, statements: dict[str, tuple[Any, ...]], full: bool) -> list[str]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of each statement, in a transaction rolled back; one
    summary line each (and the plan with ``full``), big-table sequential scans flagged."""
    lines: list[str] = []
    connection = await asyncpg.connect(plain_url(url))
    try:
        for statement, parameters in statements.items():
            verb = statement.lstrip().split(None, 1)[0].upper()
            if verb not in ("SELECT", "UPDATE", "DELETE", "WITH"):
                continue  # INSERTs scan nothing; re-running them would only collide
            transaction = connection.transaction()
            await transaction.start()
            try:
                rows = await connection.fetch(
                    f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *parameters
                )
            except (asyncpg.PostgresError, asyncpg.InterfaceError, TypeError, ValueError) as exc:
                lines.append(f"  (not explained: {type(exc).__name__}) {_short(statement)}")
                continue
            finally:
                await transaction.rollback()
            plan = [row[0] for row in rows]
            scans = []
            for node in plan:
                match = SCAN.search(node)
                if match:
                    what = match.group(0)
                    if match.group(1) == "Seq Scan" and match.group(2) in BIG_TABLES:
                        what = f"!! {what} (a big table)"
                    scans.append(what)
            took = next((p.split(":")[1].strip() for p in plan if "Execution Time" in p), "?")
            lines.append(f"  {took:>10}  {_short(statement)}")
            lines.append(f"              {'; '.join(dict.fromkeys(scans)) or 'no table scanned'}")
            if full:
                lines.extend(f"                {p}" for p in plan)
    finally:
        await connection.close()
    return lines


def _short(statement: str, width: int = 150) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# -- the jobs ------------------------------------------------------------------------------------


async def jobs_run(world: World, gateway: _seed.InstantStripe, record: bool) -> float:
    """``autofin jobs run``'s work as of today, its progress printed; seconds taken."""
    world.recorder.recording = "jobs" if record else None
    started = time.perf_counter()

    def progress(line: str) -> None:
        print(f"  {time.perf_counter() - started:6.1f} s  {line}", flush=True)

    async with world.database.sessionmaker() as session, session.begin():
        await run_daily_jobs(session, as_of=datetime.now(UTC).date(), progress=progress)
    progress("committed")
    await run_reconciliation(world.database, gateway, progress=progress)
    world.recorder.recording = None
    return time.perf_counter() - started


# -- the run -------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    sizes = _bulk.Sizes(preapprovals=args.preapprovals, loans=args.loans, products=args.products)
    async with _seed.scratch_database() as url:
        database = Database.from_url(url, pool_size=5, max_overflow=0)
        try:
            await run(url, database, sizes, args)
        finally:
            await database.dispose()


async def run(url: str, database: Database, sizes: _bulk.Sizes, args: argparse.Namespace) -> None:
    wall = time.perf_counter()
    gateway = _seed.InstantStripe()
    app = create_app(database, payment_gateway=gateway)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as http:
        admin = await _seed.login_admin(http, database)
        lender_id = await _seed.organization(http, admin, "lender", 1)
        lender = await _seed.api_key(http, admin, lender_id)
        await _seed.products(http, lender)
        dealer_id = await _seed.organization(http, admin, "dealer", 2)
        dealer = await _seed.api_key(http, admin, dealer_id)
        rounds = 2 * args.rounds
        people = _seed.national_ids(2 * args.requests * rounds)
        buyers = await _seed.buyers(
            database, len(people), get_settings().resolved_secret_key(), minutes=240
        )
        world = World(
            http, database, Recorder(database), lender, lender_id, dealer, dealer_id, people, buyers
        )

        print(f"Empty database ({args.requests} requests per path, one at a time):", flush=True)
        empty = [await measure(world, args.requests, record=False) for _ in range(args.rounds)]
        _print_rounds(empty)

        print(
            f"\nSeeding {sizes.preapprovals:,} pre-approvals, {sizes.loans:,} loans, "
            f"{sizes.products:,} product versions, {sizes.lenders:,} lenders, "
            f"{sizes.dealers:,} dealers (COPY):",
            flush=True,
        )
        connection = await asyncpg.connect(plain_url(url))
        try:
            quote = await connection.fetchval("SELECT quote::text FROM dealer_deals LIMIT 1")
            seeded_set = await _bulk.seed(
                connection,
                sizes,
                bench_lender=uuid.UUID(lender_id),
                bench_dealer=uuid.UUID(dealer_id),
                deal_quote=quote,
                report=lambda line: print(line, flush=True),
            )
        finally:
            await connection.close()
        print(f"  {sum(seeded_set.rows.values()):,} rows in {seeded_set.seconds:.0f} s", flush=True)

        print("\nSeeded database:", flush=True)
        seeded = [
            await measure(world, args.requests, record=index == 0) for index in range(args.rounds)
        ]
        _print_rounds(seeded)
        _print_comparison(empty, seeded)
        print("\nRound trips per request (every request above, empty and seeded):")
        for path, title in PATHS.items():
            sent, commits = world.recorder.per_request(path)
            print(f"  {title:<40} {sent:5.1f} statements, {commits:4.1f} commits", flush=True)

        print("\nEXPLAIN (ANALYZE, BUFFERS) of each statement, one request per path:")
        await _explain_all(url, world, args.full_plans)

        print("\nautofin jobs run over the seeded database:", flush=True)
        try:
            first = await jobs_run(world, gateway, record=True)
            print(f"  took {first:.1f} s", flush=True)
            print("  again, as of the same day:", flush=True)
            second = await jobs_run(world, gateway, record=False)
            print(f"  took {second:.1f} s", flush=True)
        except Exception as error:  # a failing job is a finding; the figures above still stand
            print(f"  FAILED: {type(error).__name__}: {str(error)[:300]}", flush=True)
        await _explain_all(url, world, args.full_plans)
    print(f"\nWhole run: {time.perf_counter() - wall:.0f} s")


async def _explain_all(url: str, world: World, full: bool) -> None:
    """EXPLAIN each recorded path's statements once (then forget them)."""
    for path, statements in world.recorder.statements.items():
        title = PATHS.get(path, "autofin jobs run (explained after the run)")
        print(f"\n{title}: {len(statements)} distinct statements")
        for line in await explain(url, statements, full):
            print(line, flush=True)
    world.recorder.statements.clear()


def _print_rounds(rounds: list[Timings]) -> None:
    for path, title in PATHS.items():
        figures = "  ".join(f"{timings.p50(path):7.1f} ms" for timings in rounds)
        print(f"  {title:<40} p50 {figures}", flush=True)


def _print_comparison(empty: list[Timings], seeded: list[Timings]) -> None:
    print("\n| path | empty p50 (runs) | seeded p50 (runs) | ratio (best seeded / best empty) |")
    print("|---|---:|---:|---:|")
    for path, title in PATHS.items():
        before = [t.p50(path) for t in empty]
        after = [t.p50(path) for t in seeded]
        ratio = min(after) / min(before)
        print(
            f"| `{title}` | {' / '.join(f'{v:.1f}' for v in before)} ms "
            f"| {' / '.join(f'{v:.1f}' for v in after)} ms | {ratio:.2f} |"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preapprovals", type=int, default=1_000_000)
    parser.add_argument("--loans", type=int, default=200_000)
    parser.add_argument("--products", type=int, default=10_000, help="product versions")
    parser.add_argument("--requests", type=int, default=20, help="requests per path and round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds on each database")
    parser.add_argument("--full-plans", action="store_true", help="print every plan in full")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
