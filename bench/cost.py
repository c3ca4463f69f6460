"""What one request of each hot path costs Autofin itself: statements, transactions and CPU.

Run ``python bench/cost.py`` (about a minute). On a scratch database (as ``bench/http.py``
makes one) it sends each path's requests one at a time through the ASGI app in this process,
with Stripe answered at once (``_seed.InstantStripe``), and prints per request:

* **statements** sent to PostgreSQL (SQLAlchemy's ``before_cursor_execute``), and of them the
  transactions opened and committed (a read-only autocommit session opens none);
* **CPU** in this process (``time.process_time()``): Python's own work, which — unlike requests
  per second — hardly moves when other work loads the machine, so two commits can be compared
  on a busy one;
* **wall** time per request, one at a time (this one does move with the machine's load).

The first line, ``GET /healthz``, is the framework's own cost per request (routing, our
middlewares, a JSON answer), the floor every other path pays before its own work.
Options: ``--requests 40`` (per path), ``--rounds 3`` (the lowest CPU of each path is printed,
as the least disturbed), ``--statements`` (also print one request's statements per path).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import types
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402

from autofin.main import create_app  # noqa: E402
from bench import _seed  # noqa: E402  (sets the benchmark environment first)
from bench.http import calculator_bodies  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.settings import get_settings  # noqa: E402

PATHS = ("healthz", "calculator", "lookup", "quote", "loan", "application", "confirm", "repayment")
Send = Callable[[int], Awaitable[httpx.Response]]


@dataclass
class Heard:
    """What the engine was asked to do while one path was being measured."""

    statements: int = 0
    begins: int = 0
    commits: int = 0
    texts: list[str] = field(default_factory=list)


class Listener:
    def __init__(self, database: Database) -> None:
        self.path: str | None = None
        self.heard: dict[str, Heard] = {}
        engine = database.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._commit)

    def _now(self) -> Heard | None:
        return None if self.path is None else self.heard.setdefault(self.path, Heard())

    @staticmethod
    def _autocommit(connection: Connection) -> bool:
        return bool(connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT")

    def _statement(self, connection: Connection, _c: Any, text: str, *_: Any) -> None:
        if (heard := self._now()) is not None:
            heard.statements += 1
            heard.texts.append(" ".join(text.split()))

    def _begin(self, connection: Connection) -> None:
        if (heard := self._now()) is not None and not self._autocommit(connection):
            heard.begins += 1
            heard.texts.append("BEGIN")

    def _commit(self, connection: Connection) -> None:
        if (heard := self._now()) is not None and not self._autocommit(connection):
            heard.commits += 1
            heard.texts.append("COMMIT")


@dataclass
class Cost:
    path: str
    requests: int
    statements: float
    begins: float
    commits: float
    cpu_ms: float
    wall_ms: float
    texts: list[str]


def _marked(path: str) -> Callable[[Send, int], Awaitable[httpx.Response]]:
    """A pass-through whose frame is named ``measuring_<path>``: a sampling profiler's stacks
    (``py-spy record -f raw``, read by ``bench/where.py``) then say which path each sample of
    this process belongs to."""

    async def through(send: Send, i: int) -> httpx.Response:
        return await send(i)

    name = f"measuring_{path}"
    code = through.__code__.replace(co_name=name, co_qualname=name)
    return cast(
        Callable[[Send, int], Awaitable[httpx.Response]],
        types.FunctionType(code, through.__globals__, name),
    )


async def measure(listener: Listener, path: str, send: Send, count: int) -> Cost:
    listener.path = path
    listener.heard.pop(path, None)
    through = _marked(path)
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(count):
        response = await through(send, i)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    listener.path = None
    heard = listener.heard.get(path, Heard())
    # One request's statements, with its transactions' BEGIN and COMMIT where they fell.
    per = (heard.statements + heard.begins + heard.commits) // count if count else 0
    return Cost(
        path,
        count,
        heard.statements / count,
        heard.begins / count,
        heard.commits / count,
        1000 * cpu / count,
        1000 * wall / count,
        heard.texts[:per],
    )


async def run(args: argparse.Namespace) -> list[Cost]:
    n, rounds = args.requests, args.rounds
    async with _seed.scratch_database() as url:
        database = Database.from_url(url, pool_size=5)
        app = create_app(database, payment_gateway=_seed.InstantStripe())
        listener = Listener(database)
        transport = httpx.ASGITransport(app=app)
        best: dict[str, Cost] = {}
        client = httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60)
        async with client as http:
            admin = await _seed.login_admin(http, database)
            lender = await _seed.api_key(
                http, admin, await _seed.organization(http, admin, "lender", 1)
            )
            await _seed.products(http, lender)
            dealer_id = await _seed.organization(http, admin, "dealer", 2)
            dealer = await _seed.api_key(http, admin, dealer_id)
            # Every round consumes its own applicants, deals and loans; one warm-up round first.
            per_round = 3 * n
            total = (rounds + 1) * per_round
            people = _seed.national_ids(total)
            buyers = await _seed.buyers(
                database, total, get_settings().resolved_secret_key(), minutes=240
            )
            bodies = calculator_bodies(n)

            async def one_round(r: int) -> list[Cost]:
                base = r * per_round
                mine = buyers[base : base + per_round]
                ids = people[base : base + per_round]

                async def apply(i: int) -> httpx.Response:
                    body = _seed.application_body(ids[i])
                    return await http.post("/v1/buyer/applications", json=body, headers=mine[i][0])

                costs = [
                    await measure(listener, "healthz", lambda i: http.get("/healthz"), n),
                    await measure(
                        listener,
                        "calculator",
                        lambda i: http.post("/v1/calculator", json=bodies[i]),
                        n,
                    ),
                ]
                answers: list[httpx.Response] = []

                async def apply_and_keep(i: int) -> httpx.Response:
                    answers.append(await apply(i))
                    return answers[-1]

                application = await measure(listener, "application", apply_and_keep, n)
                approvals = [(a.json()["preapproval"], mine[i][1]) for i, a in enumerate(answers)]
                costs.append(
                    await measure(
                        listener,
                        "lookup",
                        lambda i: http.post(
                            "/v1/dealer/lookups",
                            json={
                                "code": approvals[i][0]["code"],
                                "verifier": approvals[i][1][-4:],
                            },
                            headers=dealer,
                        ),
                        n,
                    )
                )
                quotes: list[httpx.Response] = []

                async def quote(i: int) -> httpx.Response:
                    body = _seed.deal_body(*approvals[i])
                    quotes.append(await http.post("/v1/dealer/deals", json=body, headers=dealer))
                    return quotes[-1]

                costs.append(await measure(listener, "quote", quote, n))
                costs.append(application)
                deal_ids = [q.json()["id"] for q in quotes]
                costs.append(
                    await measure(
                        listener,
                        "confirm",
                        lambda i: http.post(
                            f"/v1/dealer/deals/{deal_ids[i]}/confirm",
                            json={"identity_verified": True},
                            headers=dealer | {"Idempotency-Key": uuid.uuid4().hex},
                        ),
                        n,
                    )
                )
                # Loans to repay: the next 2n applicants apply, save a card and get a loan.
                payers = mine[n:]
                approved = []
                for i, (headers, _phone) in enumerate(payers[:n]):
                    body = _seed.application_body(ids[n + i])
                    answer = await http.post("/v1/buyer/applications", json=body, headers=headers)
                    approved.append(answer.json()["preapproval"])
                    card = {"payment_method": "pm_card_visa"}
                    saved = await http.post("/v1/buyer/payment-methods", json=card, headers=headers)
                    if saved.status_code != 201:
                        raise RuntimeError(f"saving a card: {saved.status_code} {saved.text}")
                loans = await _seed.book_loans(
                    database, dealer_id, approved, principal=10_000_000, term_months=12
                )
                costs.append(
                    await measure(
                        listener,
                        "loan",
                        lambda i: http.get(f"/v1/buyer/loans/{loans[i]}", headers=payers[i][0]),
                        n,
                    )
                )
                costs.append(
                    await measure(
                        listener,
                        "repayment",
                        lambda i: http.post(
                            f"/v1/buyer/loans/{loans[i]}/payments",
                            json={"installments": 1},
                            headers=payers[i][0] | {"Idempotency-Key": uuid.uuid4().hex},
                        ),
                        n,
                    )
                )
                return costs

            await one_round(0)  # warm-up: imports, statement caches, the pool
            for r in range(1, rounds + 1):
                for cost in await one_round(r):
                    if cost.path not in best or cost.cpu_ms < best[cost.path].cpu_ms:
                        best[cost.path] = cost
        await database.dispose()
    return [best[p] for p in PATHS]


def table(costs: list[Cost]) -> str:
    floor = next(c for c in costs if c.path == "healthz").cpu_ms
    lines = [
        "| path | statements | transactions (BEGIN / COMMIT) | CPU per request | × /healthz | "
        "wall per request |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for c in costs:
        lines.append(
            f"| {c.path} | {c.statements:.1f} | {c.begins:.1f} / {c.commits:.1f} | "
            f"{c.cpu_ms:.2f} ms | {c.cpu_ms / floor:.1f} | {c.wall_ms:.2f} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="requests per path (40)")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (3)")
    parser.add_argument("--statements", action="store_true", help="print each path's statements")
    args = parser.parse_args()
    began = time.monotonic()
    costs = asyncio.run(run(args))
    print(table(costs))
    if args.statements:
        for c in costs:
            print(f"\n{c.path}:")
            for text in c.texts:
                print(f"  {text[:200]}")
    print(
        f"\n{args.requests} requests per path, lowest-CPU of {args.rounds} rounds; "
        f"whole run {time.monotonic() - began:.0f} s."
    )


if __name__ == "__main__":
    main()
