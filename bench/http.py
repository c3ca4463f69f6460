"""Autofin over real HTTP under load, beside two floors measured in the same run.

Run ``python bench/http.py`` (about three minutes; needs ``wrk``). One run:

* creates a scratch database (``AUTOFIN_BENCH_DATABASE_URL``, else
  ``postgresql://postgres@127.0.0.1:5432/postgres``, else an embedded PostgreSQL), migrates it,
  and drops it at the end;
* starts the **floors** (``bench/floor.py``: one FastAPI app reading one row by primary key,
  with a pool as large as Autofin's: the **bare floor** straight from asyncpg, the **stack
  floor** through SQLAlchemy's ``AsyncSession`` as Autofin reads), the local Stripe emulator
  (``localstripe``, as development runs it) and ``autofin serve --workers 1``, each a child
  process on a free loopback port;
* seeds what each path needs (a lender with five products, a dealer with an API key, buyers
  with pre-approvals, quoted deals, active loans with saved cards, fresh applicants);
* drives each path with ``wrk`` (``bench/wrk/<path>.lua`` reads pre-generated request lines)
  at each connection count and prints requests/s, p50, p99, the longest wait, non-2xx answers,
  errors and timeouts, and the ratios to the bare floor and to the stack floor at the same
  connection count: the first says how far a path is from the least any API can do, the second
  how much of that gap is Autofin's own work rather than the stack it chose.

Paths that consume a fixture (application, confirm, repayment) send each fixture exactly
once and are timed over exactly those requests; the others cycle through their lines for
``--duration`` seconds. After each run the harness waits until Autofin is idle again (no
request left in PostgreSQL), restarting it if a stalled run does not drain.

Options: ``--connections 32,256``, ``--duration 5``, ``--paths calculator,confirm,…``,
``--json OUT``, ``--threads`` (wrk threads), ``--timeout`` (wrk's per-request timeout).
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# This file is named like the standard library's ``http`` package, and running it puts its folder
# first on sys.path: take that folder off, so ``import http`` (httpx, uvicorn) finds the real one.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The seeding app in this process must sign tokens and encrypt data as the server does.
os.environ["AUTOFIN_SECRET_KEY"] = "bench-secret-key-that-is-long-enough-0123456789"

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from autofin import stripe_emulator  # noqa: E402
from autofin.main import create_app  # noqa: E402
from bench import _seed  # noqa: E402  (sets the benchmark environment; nothing reads it on import)
from bench.floor import READERS as floor_readers  # noqa: E402
from bench.floor import ensure_table  # noqa: E402
from shared.db import Database, plain_url  # noqa: E402
from shared.settings import get_settings  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WRK_SCRIPTS = BENCH / "wrk"

FLOORS = tuple(floor_readers.values())
PATHS = ("calculator", "lookup", "quote", "loan", "application", "repayment", "confirm")
CONSUMING = frozenset({"application", "confirm", "repayment"})
LABELS = {
    "floor": "floor: GET one row by primary key",
    "stack": "stack floor: the same row through AsyncSession",
    "calculator": "POST /v1/calculator",
    "lookup": "POST /v1/dealer/lookups",
    "quote": "POST /v1/dealer/deals (quote)",
    "loan": "GET /v1/buyer/loans/{id}",
    "application": "POST /v1/buyer/applications",
    "repayment": "POST /v1/buyer/loans/{id}/payments",
    "confirm": "POST /v1/dealer/deals/{id}/confirm",
}
# Requests per second one worker reaches (measured on 2 cores at 8 connections), to size the
# fixtures of consuming paths for about --duration seconds; never fewer than one per connection
# and 32 more, so that every connection sends at least one.
EXPECTED_RATE = {"application": 40, "repayment": 25, "confirm": 30}
# Approvals the look-up and quote paths cycle through: more than the connections, as dealers
# look up different buyers. Look-ups of one code take turns by design (brute-force guard), so
# with 100 codes 256 connections queued ~2.5 deep on each and waited for each other.
APPROVAL_POOL = 512
LOAN_POOL = 100  # loans the loan-read path cycles through
SEED_CONCURRENCY = 16
LOAN_PRINCIPAL = 10_000_000
LOAN_TERM = 12

STRIPE_API_KEY = "sk_test_autofin_bench_localstripe"
WEBHOOK_SECRET = "whsec_autofin_bench_localstripe"
DRAIN_LIMIT_S = 10.0  # then Autofin is restarted

# -- child processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A child process answering HTTP on 127.0.0.1:``port``; its output goes to ``log``."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    log: Path
    ready_path: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
                self.command,
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited during start-up; see {self.log}")
            try:
                if httpx.get(self.base_url + self.ready_path, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready within 60 s; see {self.log}")

    def stop(self, *, now: bool = False) -> None:
        """SIGTERM and wait (uvicorn finishes its requests first); ``now``: SIGKILL at once,
        for a stalled server whose requests only end when its pool times out."""
        if self.process is None or self.process.poll() is not None:
            return
        if now:
            self.process.kill()
            self.process.wait()
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def autofin_command() -> list[str]:
    """``autofin`` as installed beside this interpreter (the console script), else the module."""
    script = Path(sys.executable).with_name("autofin")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "autofin.cli"]


def floor_server(
    reader: str, env: dict[str, str], url: str, pool_size: int, pool_max: int, workdir: Path
) -> Server:
    """``bench/floor.py`` with one reader (``asyncpg``: the bare floor; ``session``: the stack
    floor) and Autofin's pool size, on a free port."""
    port = free_port()
    return Server(
        f"floor ({reader})",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.floor:create_app",
            "--factory",
            "--app-dir",
            str(ROOT),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env
        | {
            "BENCH_FLOOR_DATABASE_URL": url,
            "BENCH_FLOOR_POOL_MIN": str(pool_size),
            "BENCH_FLOOR_POOL_MAX": str(pool_max),
            "BENCH_FLOOR_READER": reader,
        },
        port,
        workdir / f"floor-{reader}.log",
        "/healthz",
    )


def autofin_pool() -> tuple[int, int]:
    """The pool ``autofin serve`` gets from its settings (pool size, and that plus overflow:
    it has none)."""
    size = get_settings().db_pool_size
    return size, size


# -- seeding -------------------------------------------------------------------------------------


@dataclass
class Approved:
    headers: _seed.Headers
    phone: str
    preapproval: dict[str, Any]


@dataclass
class Fixtures:
    """What the request lines are made of."""

    dealer: _seed.Headers = field(default_factory=dict)
    pool: list[Approved] = field(default_factory=list)  # looked up, quoted
    deals: dict[int, list[str]] = field(default_factory=dict)  # connections → deals to confirm
    loans: list[tuple[_seed.Headers, str]] = field(default_factory=list)  # (buyer, loan id)
    repayments: dict[int, list[tuple[_seed.Headers, str]]] = field(default_factory=dict)
    applicants: dict[int, list[tuple[_seed.Headers, str]]] = field(default_factory=dict)


def fixture_count(path: str, connections: int, duration: float) -> int:
    return max(math.ceil(EXPECTED_RATE[path] * duration), connections + 32)


def consuming_limit(path: str, count: int, duration: float) -> float:
    """wrk's -d for a consuming path: ample time for its fixtures at the expected rate (the
    run ends as soon as the last answer is in), bounded so that a stall cannot hang the run."""
    return min(max(3 * duration, 1.5 * count / EXPECTED_RATE[path]), 30.0)


def stall_limit(duration: float, timeout: float) -> float:
    """Seconds without a single answer after which a consuming run is stalled and cut short:
    wrk's request timeout, or the duration if longer."""
    return max(duration, timeout)


async def seed(
    base_url: str, url: str, paths: list[str], levels: list[int], duration: float
) -> Fixtures:
    counts = {
        path: {c: fixture_count(path, c, duration) for c in levels}
        for path in CONSUMING & set(paths)
    }
    confirms = sum(counts.get("confirm", {}).values())
    repayments = sum(counts.get("repayment", {}).values())
    applications = sum(counts.get("application", {}).values())
    wants_pool = bool({"lookup", "quote"} & set(paths))
    approvals_a = max(confirms, APPROVAL_POOL if wants_pool else 0)  # deals, look-ups, quotes
    approvals_b = max(repayments, LOAN_POOL if "loan" in paths else 0)  # loans

    secret = _seed.BENCH_SECRET_KEY
    database = Database.from_url(url)
    fixtures = Fixtures()
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=SEED_CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        admin = await _seed.login_admin(http, database)
        lender = await _seed.organization(http, admin, "lender", 1)
        await _seed.products(http, await _seed.api_key(http, admin, lender))
        dealer_id = await _seed.organization(http, admin, "dealer", 2)
        fixtures.dealer = await _seed.api_key(http, admin, dealer_id)

        people = _seed.national_ids(approvals_a + approvals_b + applications)
        buyers = await _seed.buyers(database, len(people), secret, minutes=120)

        # Applications go both to the server and to an in-process app on the same database
        # (same secret), so that seeding uses both cores.
        local = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(database)), base_url="http://seed"
        )
        gate = asyncio.Semaphore(SEED_CONCURRENCY)

        async def apply(index: int) -> Approved:
            headers, phone = buyers[index]
            body = _seed.application_body(people[index])
            client = local if index % 3 == 2 else http
            async with gate:
                response = await client.post("/v1/buyer/applications", json=body, headers=headers)
            assert response.status_code == 201, response.text
            answer = response.json()
            assert answer["decision"] == "approved", answer
            return Approved(headers, phone, answer["preapproval"])

        approved = await asyncio.gather(*(apply(i) for i in range(approvals_a + approvals_b)))
        await local.aclose()
        print(
            f"  {len(approved)} pre-approvals ({time.perf_counter() - started:.0f} s)", flush=True
        )
        fixtures.pool = approved[: min(approvals_a, APPROVAL_POOL)]
        on_loans = approved[approvals_a:]

        # Then, at once: quoted deals to confirm (each on an approval of its own), active loans
        # booked the way confirm books them, and a saved card for each loan to repay.
        async def quote(a: Approved) -> str:
            async with gate:
                return await _seed.deal(http, fixtures.dealer, a.preapproval, a.phone)

        async def save_card(a: Approved) -> None:
            async with gate:
                response = await http.post(
                    "/v1/buyer/payment-methods",
                    json={"payment_method": "pm_card_visa"},
                    headers=a.headers,
                )
            assert response.status_code == 201, response.text

        deals, loan_ids, _ = await asyncio.gather(
            asyncio.gather(*(quote(a) for a in approved[:confirms])),
            _seed.book_loans(
                database,
                dealer_id,
                [a.preapproval for a in on_loans],
                principal=LOAN_PRINCIPAL,
                term_months=LOAN_TERM,
            ),
            asyncio.gather(*(save_card(a) for a in on_loans[:repayments])),
        )
        for c in levels if confirms else []:
            taken = counts["confirm"][c]
            fixtures.deals[c], deals = deals[:taken], deals[taken:]
        loans = [(a.headers, loan_id) for a, loan_id in zip(on_loans, loan_ids, strict=True)]
        fixtures.loans = loans[:LOAN_POOL]
        for c in levels if repayments else []:
            taken = counts["repayment"][c]
            fixtures.repayments[c], loans = loans[:taken], loans[taken:]
        print(
            f"  {confirms} quoted deals, {len(loan_ids)} active loans, {repayments} saved cards "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )

        # Fresh applicants: an account and a national ID each, never used before.
        fresh = [(buyers[i][0], people[i]) for i in range(approvals_a + approvals_b, len(people))]
        for c in levels if applications else []:
            taken = counts["application"][c]
            fixtures.applicants[c], fresh = fresh[:taken], fresh[taken:]
    await database.dispose()
    return fixtures


# -- request lines -------------------------------------------------------------------------------


def request_line(
    method: str, path: str, headers: _seed.Headers, body: dict[str, Any] | None = None
) -> str:
    """One line of a ``bench/wrk/_lines.lua`` file: method, path, body, headers, tab-separated
    (JSON escapes tabs and newlines, so a body never holds one)."""
    text = json.dumps(body, separators=(",", ":")) if body is not None else ""
    fields = [method, path, text, *(f"{name}: {value}" for name, value in headers.items())]
    assert all("\t" not in f and "\n" not in f for f in fields)
    return "\t".join(fields)


def calculator_bodies(count: int) -> list[dict[str, Any]]:
    chance = random.Random(11)
    bodies = []
    for _ in range(count):
        body: dict[str, Any] = {
            "principal": chance.randrange(2_000_000, 50_000_000, 100),
            "annual_rate": f"0.{chance.randrange(300, 2400):04d}",
            "term_months": chance.choice((12, 24, 36, 48, 60, 72, 84)),
            "method": chance.choice(("equal_installment", "equal_principal")),
        }
        if chance.random() < 0.3:
            body["upfront_fee"] = chance.randrange(0, 500_000, 100)
        bodies.append(body)
    return bodies


def request_lines(fixtures: Fixtures, path: str, connections: int, floor_rows: int) -> list[str]:
    if path in FLOORS:
        return [request_line("GET", f"/{path}/{n}", {}) for n in range(1, floor_rows + 1)]
    if path == "calculator":
        return [request_line("POST", "/v1/calculator", {}, b) for b in calculator_bodies(500)]
    if path == "lookup":
        return [
            request_line(
                "POST",
                "/v1/dealer/lookups",
                fixtures.dealer,
                {"code": a.preapproval["code"], "verifier": a.phone[-4:]},
            )
            for a in fixtures.pool
        ]
    if path == "quote":
        return [
            request_line(
                "POST", "/v1/dealer/deals", fixtures.dealer, _seed.deal_body(a.preapproval, a.phone)
            )
            for a in fixtures.pool
        ]
    if path == "loan":
        return [request_line("GET", f"/v1/buyer/loans/{i}", h) for h, i in fixtures.loans]
    if path == "application":
        return [
            request_line("POST", "/v1/buyer/applications", h, _seed.application_body(person))
            for h, person in fixtures.applicants[connections]
        ]
    if path == "confirm":
        return [
            request_line(
                "POST",
                f"/v1/dealer/deals/{deal_id}/confirm",
                fixtures.dealer | {"Idempotency-Key": uuid.uuid4().hex},
                {"identity_verified": True},
            )
            for deal_id in fixtures.deals[connections]
        ]
    if path == "repayment":
        return [
            request_line(
                "POST",
                f"/v1/buyer/loans/{loan_id}/payments",
                h | {"Idempotency-Key": uuid.uuid4().hex},
                {"installments": 1},
            )
            for h, loan_id in fixtures.repayments[connections]
        ]
    raise ValueError(path)


# -- wrk -----------------------------------------------------------------------------------------


@dataclass
class Result:
    path: str
    connections: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    statuses: dict[str, int]
    timeouts: int
    socket_errors: int
    unanswered: int
    wrk_non_2xx_or_3xx: int
    fillers: int
    latency_samples: int = 0
    stalled: bool = False
    ratio: float | None = None
    stack_ratio: float | None = None

    @property
    def ok_rps(self) -> float:
        """Successful answers per second: a shed request (503) is quick but served nobody."""
        return (self.requests - self.non_2xx) / self.seconds if self.seconds else 0.0

    @property
    def problems(self) -> str:
        parts = [
            f"{n} {what}"
            for n, what in (
                (self.timeouts, "timeouts"),
                (self.unanswered, "unanswered"),
                (self.socket_errors, "socket errors"),
            )
            if n
        ]
        if self.stalled:
            parts.insert(0, "stalled: no answer")
        return ", ".join(parts) or "0"

    def latency(self, value_ms: float) -> str:
        return f"{value_ms:,.1f} ms" if self.latency_samples > 0 else "—"


NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


def run_wrk(
    path: str,
    base_url: str,
    lines: list[str],
    *,
    connections: int,
    limit_s: float,
    threads: int,
    timeout_s: float,
    stall_s: float,
    workdir: Path,
) -> Result:
    once = path in CONSUMING
    threads = max(1, min(threads, connections, len(lines)))
    run_dir = Path(tempfile.mkdtemp(prefix=f"{path}-{connections}-", dir=workdir))
    lines_file = run_dir / "requests.txt"
    lines_file.write_text("\n".join(lines) + "\n")
    marks = run_dir / "marks"
    marks.mkdir()
    env = os.environ | {
        "BENCH_WRK_LINES": str(lines_file),
        "BENCH_WRK_THREADS": str(threads),
        "BENCH_WRK_MARKS": str(marks),
    }
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{math.ceil(limit_s)}s",
        f"--timeout={math.ceil(timeout_s)}s",
        "--latency",
        "-s",
        str(WRK_SCRIPTS / f"{path}.lua"),
        base_url,
    ]
    started = time.time()
    process = subprocess.Popen(  # noqa: S603 (wrk, with our own arguments)
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    stalled = False
    if once:
        # wrk sleeps for all of -d; interrupt it as soon as every thread has had its answers,
        # or when nothing at all has been answered for a while (a stall).
        while process.poll() is None and time.time() - started < limit_s + 5:
            if len(list(marks.glob("done-*"))) == threads:
                process.send_signal(signal.SIGINT)
                break
            if time.time() - started > stall_s and not any(marks.glob("answered-*")):
                stalled = True
                process.send_signal(signal.SIGINT)
                break
            time.sleep(0.01)
    try:
        output, _ = process.communicate(timeout=limit_s + 30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    (run_dir / "wrk.txt").write_text(output)
    found = re.search(r"^BENCH_RESULT (\{.*\})$", output, re.MULTILINE)
    if process.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed for {path} at {connections}: {output[-2000:]}")
    data = json.loads(found.group(1))
    seconds = data["duration_us"] / 1e6
    starts = [m.stat().st_mtime_ns for m in marks.glob("start-*")]
    dones = [m.stat().st_mtime_ns for m in marks.glob("done-*")]
    if once and starts and len(dones) == threads:
        seconds = (max(dones) - min(starts)) / 1e9  # exactly the fixtures' requests
    statuses = {str(k): int(v) for k, v in sorted(data["statuses"].items())}
    non_2xx = sum(n for code, n in statuses.items() if not 200 <= int(code) < 300)
    errors = data["errors"]
    wrk_non_2xx = NON_2XX.search(output)
    latency = data["latency_us"]
    return Result(
        path=path,
        connections=connections,
        requests=int(data["requests"]),
        seconds=seconds,
        rps=data["requests"] / seconds if seconds else 0.0,
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        non_2xx=non_2xx,
        statuses=statuses,
        timeouts=int(errors["timeout"]),
        # Consuming runs: lost requests show as unanswered; their read errors are idle
        # connections the server closed (keep-alive timeout) after their lines ran out.
        socket_errors=int(errors["connect"])
        if once
        else int(errors["connect"] + errors["read"] + errors["write"]),
        unanswered=max(0, int(data["sent"]) - int(data["answered"])) if once else 0,
        wrk_non_2xx_or_3xx=int(wrk_non_2xx.group(1)) if wrk_non_2xx else 0,
        fillers=int(data["fillers"]),
        latency_samples=int(data["requests"]) - int(errors["timeout"]),
        stalled=stalled,
    )


# -- between runs: let Autofin go idle -----------------------------------------------------------


async def busy_backends(url: str) -> int:
    """Backends of the scratch database in a query or a transaction, but for this one."""
    connection = await asyncpg.connect(plain_url(url))
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state IS NOT NULL AND state <> 'idle'"
            )
        )
    finally:
        await connection.close()


def drained(server: Server, url: str, limit_s: float) -> float | None:
    """Wait until Autofin is idle (nothing running in PostgreSQL, ``/readyz`` quick, twice in
    a row); the seconds waited, or None if it did not drain within ``limit_s``."""
    started = time.monotonic()
    quiet = 0
    while time.monotonic() - started < limit_s:
        busy = asyncio.run(busy_backends(url))
        try:
            ready = httpx.get(server.base_url + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            ready = False
        quiet = quiet + 1 if busy == 0 and ready else 0
        if quiet >= 2:
            return time.monotonic() - started
        time.sleep(0.25)
    return None


# -- output --------------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    rows = [
        "| path | connections | 2xx/s | all answers/s | p50 | p99 | longest | non-2xx "
        "| errors/timeouts | ratio to floor (2xx/s) | ratio to stack floor (2xx/s) | requests |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        ratio = "1" if r.path == "floor" else (f"{r.ratio:.3f}" if r.ratio is not None else "—")
        stack_ratio = (
            "—"
            if r.path == "floor"
            else "1"
            if r.path == "stack"
            else (f"{r.stack_ratio:.3f}" if r.stack_ratio is not None else "—")
        )
        non_2xx = str(r.non_2xx)
        if r.non_2xx:
            codes = ", ".join(f"{n}×{c}" for c, n in r.statuses.items() if not c.startswith("2"))
            non_2xx += f" ({codes})"
        rows.append(
            f"| {LABELS[r.path]} | {r.connections} | {r.ok_rps:,.1f} | {r.rps:,.1f} "
            f"| {r.latency(r.p50_ms)} "
            f"| {r.latency(r.p99_ms)} | {r.latency(r.max_ms)} | {non_2xx} | {r.problems} "
            f"| {ratio} | {stack_ratio} "
            f"| {r.requests:,} |"
        )
    return "\n".join(rows)


def ratio_to(floor_path: str, result: Result, results: list[Result]) -> float | None:
    """``result``'s successful answers per second over the floor's at its connection count."""
    floor = next(
        (f for f in results if f.path == floor_path and f.connections == result.connections),
        None,
    )
    return result.ok_rps / floor.ok_rps if floor is not None and floor.ok_rps else None


def git_commit() -> str:
    """HEAD, and the last commit that changed anything outside bench/ (the code measured)."""

    def git(*args: str) -> str:
        return subprocess.run(  # noqa: S603 (git, with our own arguments)
            ["git", *args],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        code = git("log", "-1", "--format=%h", "--", ".", ":(exclude)bench")
        dirty = " (uncommitted changes)" if git("status", "--porcelain", "--", ".") else ""
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{dirty}, application code as of {code}"


# -- the run -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--connections", default="32,256", help="comma-separated connection counts (32,256)"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=5.0,
        help="seconds per cycling path and connection count; consuming paths get fixtures "
        "for about this long (5)",
    )
    parser.add_argument(
        "--paths", default=",".join(PATHS), help=f"comma-separated, of: {', '.join(PATHS)}"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument("--timeout", type=float, default=5.0, help="wrk request timeout, s (5)")
    args = parser.parse_args(argv)
    args.levels = [int(c) for c in args.connections.split(",") if c.strip()]
    args.path_list = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = set(args.path_list) - set(PATHS)
    if unknown:
        parser.error(f"unknown paths: {', '.join(sorted(unknown))}")
    if not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="autofin-bench-http-"))
    print(f"# Autofin over HTTP: {git_commit()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"(work files and server logs: {workdir})\n", flush=True)
    results, notes, meta = asyncio.run(_with_scratch_database(args, workdir))
    for r in results:
        r.ratio = ratio_to("floor", r, results)
        r.stack_ratio = ratio_to("stack", r, results)
    elapsed = time.monotonic() - began
    print()
    for line in meta:
        print(line)
    print()
    print(table(results))
    if notes:
        print()
        for note in notes:
            print(f"- {note}")
    print(f"\nWhole run: {elapsed:.0f} s.")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "commit": git_commit(),
                    "at": datetime.now(UTC).isoformat(),
                    "seconds": round(elapsed, 1),
                    "setup": meta,
                    "notes": notes,
                    "results": [asdict(r) for r in results],
                },
                indent=2,
            )
        )


async def _with_scratch_database(
    args: argparse.Namespace, workdir: Path
) -> tuple[list[Result], list[str], list[str]]:
    async with _seed.scratch_database() as url:
        connection = await asyncpg.connect(plain_url(url))
        try:
            await ensure_table(connection)
            floor_rows = int(await connection.fetchval("SELECT count(*) FROM bench_floor"))
        finally:
            await connection.close()
        return await asyncio.to_thread(_measure, args, workdir, url, floor_rows)


def _measure(
    args: argparse.Namespace, workdir: Path, url: str, floor_rows: int
) -> tuple[list[Result], list[str], list[str]]:
    pool_size, pool_max = autofin_pool()
    stripe_process, stripe_base = stripe_emulator.start()
    python_env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOFIN_")}
    # One floor server per reader, run one after the other: never both pools at once.
    floors = {
        path: floor_server(reader, python_env, plain_url(url), pool_size, pool_max, workdir)
        for reader, path in floor_readers.items()
    }
    port = free_port()
    autofin = Server(
        "autofin serve",
        [*autofin_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        python_env
        | {
            "AUTOFIN_DATABASE_URL": url,
            "AUTOFIN_SECRET_KEY": _seed.BENCH_SECRET_KEY,
            "AUTOFIN_LOG_LEVEL": "WARNING",
            "AUTOFIN_DATA_DIR": str(workdir / "autofin-data"),
            "AUTOFIN_STRIPE_API_KEY": STRIPE_API_KEY,
            "AUTOFIN_STRIPE_API_BASE": stripe_base,
            "AUTOFIN_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        },
        port,
        workdir / "autofin.log",
        "/readyz",
    )
    results: list[Result] = []
    notes: list[str] = []
    meta = [
        f"- floor: FastAPI + asyncpg on uvicorn, 1 worker, pool {pool_size}–{pool_max} "
        f"(Autofin's engine: pool_size {pool_size} + max_overflow {pool_max - pool_size}); "
        "stack floor: the same app and row through SQLAlchemy's AsyncSession (a session per "
        "request from a dependency, one ORM select, commit) on an engine with that pool; "
        f"`autofin serve --workers 1`; PostgreSQL {plain_url(url).rsplit('@', 1)[-1]}",
        "- Stripe: the localstripe emulator on 127.0.0.1 (what development runs), delivering "
        "webhooks to Autofin: confirm and repayment include its answer time, and repayment "
        "runs also serve its payment_intent.succeeded webhooks (sent 1 s after each charge)",
        f"- wrk {args.threads} thread(s), --timeout {args.timeout:g}s, --latency; cycling paths "
        f"{args.duration:g} s each; consuming paths send each fixture once (timed over exactly "
        "those requests); p50/p99 exclude answers later than the timeout (counted as timeouts)",
        f"- {os.cpu_count()} CPU cores shared by wrk, both servers, localstripe and PostgreSQL",
    ]
    try:
        autofin.start()
        stripe_emulator.register_webhook(
            stripe_base,
            "autofin-bench",
            f"{autofin.base_url}/v1/stripe/webhook",
            WEBHOOK_SECRET,
            events=["payment_intent.succeeded", "payment_intent.payment_failed"],
        )
        print("Seeding:", flush=True)
        fixtures = asyncio.run(
            seed(autofin.base_url, url, args.path_list, args.levels, args.duration)
        )
        plan = [(f, c) for f in FLOORS for c in args.levels] + [
            (p, c) for p in PATHS if p in args.path_list for c in args.levels
        ]
        print("\nMeasuring:", flush=True)
        for path, connections in plan:
            if path in FLOORS and floors[path].process is None:
                for other in floors.values():
                    other.stop()
                floors[path].start()
            elif path not in FLOORS:
                for other in floors.values():
                    other.stop()  # their pools hold connections Autofin's runs may need
            target = floors[path] if path in FLOORS else autofin
            lines = request_lines(fixtures, path, connections, floor_rows)
            limit = (
                consuming_limit(path, len(lines), args.duration)
                if path in CONSUMING
                else args.duration
            )
            result = run_wrk(
                path,
                target.base_url,
                lines,
                connections=connections,
                limit_s=limit,
                threads=args.threads,
                timeout_s=args.timeout,
                stall_s=stall_limit(args.duration, args.timeout),
                workdir=workdir,
            )
            results.append(result)
            print(
                f"  {LABELS[path]:<40} c={connections:<4} {result.rps:9.1f}/s "
                f"p50 {result.latency(result.p50_ms):>11} p99 {result.latency(result.p99_ms):>11} "
                f"max {result.latency(result.max_ms):>11} "
                f"non-2xx {result.non_2xx}  {result.problems}",
                flush=True,
            )
            if result.fillers:
                notes.append(
                    f"{path} at {connections}: {result.fillers} filler GET /healthz after "
                    "reconnects (counted in its requests)"
                )
            if target is autofin:
                # A stalled Autofin holds its requests until its pool gives up: restart it.
                waited = None if result.stalled else drained(autofin, url, DRAIN_LIMIT_S)
                if result.stalled:
                    notes.append(
                        f"{path} at {connections}: no answer within "
                        f"{stall_limit(args.duration, args.timeout):g} s (stalled); Autofin "
                        "restarted before the next run"
                    )
                    autofin.stop(now=True)
                    autofin.start()
                elif waited is None:
                    notes.append(
                        f"{path} at {connections}: Autofin still busy {DRAIN_LIMIT_S:.0f} s "
                        "after the run; restarted it before the next run"
                    )
                    print("  (Autofin did not drain; restarting it)", flush=True)
                    autofin.stop(now=True)
                    autofin.start()
                elif waited > 1:
                    notes.append(
                        f"{path} at {connections}: Autofin took {waited:.1f} s to go idle "
                        "after the run (requests wrk had given up on)"
                    )
    finally:
        autofin.stop()
        for floor in floors.values():
            floor.stop()
        stripe_emulator.stop(stripe_process)
    return results, notes, meta


if __name__ == "__main__":
    main()
