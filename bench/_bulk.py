"""The scale bench's data set, written straight into the tables with ``COPY``.

A marketplace some years in: a few hundred lenders with 10,000 product versions between them,
a thousand dealers, a million pre-approvals (each on its application; most expired, one in five
financed a car, a few still active and some of those past their validity), and 200,000 loans
with their schedules, ledgers, repayments and deals, at every stage: new, paying on time, a few
weeks late, months late, paid off, charged off. Every row obeys the schema's keys and checks
(foreign keys are checked as the rows go in), and every loan's ledger reconciles with its
schedule to the fen, as the jobs and the API expect. The data describe the world as the daily
jobs left it yesterday, so a jobs run today has a normal day's work.

Rows are generated in Python in chunks and streamed with asyncpg's ``copy_records_to_table``;
schedules are computed once per distinct (principal, rate, term) by the pricing package and
reused, so the cost is the copying, not the maths.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from dealer_portal.vin import numbered
from marketplace.preapprovals.service import CODE_LENGTH
from marketplace.servicing.amounts import bucket_for
from pricing import DEFAULT_POLICY, SUB_GRADES, benchmark_rate, quote_loan
from pricing.payoff import due_dates
from shared import pii
from shared.identity.uscc import uscc_check_character
from shared.money import round_fen

CHUNK = 50_000  # rows per COPY statement
GRACE_DAYS = 3  # as marketplace.servicing.delinquency's default policy
TERMS = (12, 24, 36, 48, 60)
PRINCIPALS = tuple(range(5_000_000, 30_000_001, 1_250_000))  # ¥50,000 … ¥300,000
RATES = tuple(Decimal(r) for r in ("0.0399", "0.0499", "0.0599", "0.0699", "0.0799", "0.0999"))
GRADES = SUB_GRADES[:20]  # A1 … D5: who gets approved
ADVISORS = 50


@dataclass(frozen=True)
class Sizes:
    preapprovals: int
    loans: int
    products: int

    @property
    def lenders(self) -> int:
        return max(3, self.products // 30)

    @property
    def dealers(self) -> int:
        return max(3, self.loans // 200)

    @property
    def buyers(self) -> int:
        return max(1, self.preapprovals // 4)


@dataclass
class Seeded:
    """What the data set holds, for the report."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


KINDS = {
    kind: 0x5CA1E000 + k
    for k, kind in enumerate(
        (
            "lender",
            "dealer",
            "product",
            "version",
            "buyer",
            "advisor",
            "application",
            "preapproval",
            "offer",
            "loan",
            "payment",
            "deal",
        )
    )
}


def _uuid(kind: str, n: int) -> uuid.UUID:
    """A stable id per (kind, n), cheap to make: reruns seed the same data."""
    return uuid.UUID(int=(KINDS[kind] << 96) | n)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class Copier:
    """COPY rows into tables on one connection, reporting rows and speed as it goes."""

    def __init__(self, connection: asyncpg.Connection, report: Callable[[str], None]) -> None:
        self.connection = connection
        self.report = report
        self.seeded = Seeded()

    async def copy(self, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
        started = time.perf_counter()
        done = 0
        iterator = iter(rows)
        while True:
            chunk = [row for _, row in zip(range(CHUNK), iterator, strict=False)]
            if not chunk:
                break
            await self.connection.copy_records_to_table(table, records=chunk, columns=columns)
            done += len(chunk)
            if done % (CHUNK * 20) == 0:
                self.report(f"    {table}: {done:,} rows …")
        seconds = time.perf_counter() - started
        self.seeded.rows[table] = self.seeded.rows.get(table, 0) + done
        rate = done / seconds if seconds else 0
        self.report(f"  {table}: {done:,} rows in {seconds:.1f} s ({rate:,.0f}/s)")


# -- the data set ---------------------------------------------------------------------------------


async def seed(
    connection: asyncpg.Connection,
    sizes: Sizes,
    *,
    bench_lender: uuid.UUID,
    bench_dealer: uuid.UUID,
    deal_quote: str,
    report: Callable[[str], None],
) -> Seeded:
    """Write the data set; the bench's own lender and dealer get an ordinary share of it."""
    started = time.perf_counter()
    today = datetime.now(UTC).date()
    copier = Copier(connection, report)
    checked_per_row = not await _defer_foreign_key_checks(connection)
    if not checked_per_row:
        report("  foreign keys: checked once at the end, not per row (session_replication_role)")
    lenders = [bench_lender] + [_uuid("lender", n) for n in range(1, sizes.lenders)]
    dealers = [bench_dealer] + [_uuid("dealer", n) for n in range(1, sizes.dealers)]
    await copier.copy(
        "organizations",
        ["id", "kind", "name", "uscc", "city", "brands", "status", "created_at"],
        _organizations(lenders[1:], dealers[1:], today),
    )
    versions = await _products(copier, lenders[1:], sizes.products, today)
    since = _at(today - timedelta(days=900))
    await copier.copy(
        "users",
        ["id", "email", "full_name", "phone_encrypted", "phone_hash", "kind", "is_active"]
        + ["created_at"],
        (
            (
                _uuid("buyer", u),
                f"s{u}@scale.example",
                "张三",
                pii.encrypt(f"139{u:08d}"),
                pii.lookup_hash(f"139{u:08d}"),
                "buyer",
                True,
                since,
            )
            for u in range(sizes.buyers)
        ),
    )
    await copier.copy(
        "users",
        ["id", "email", "full_name", "kind", "is_active", "created_at"],
        (
            (_uuid("advisor", a), f"a{a}@scale.example", "李顾问", "advisor", True, since)
            for a in range(ADVISORS)
        ),
    )
    # Yesterday's jobs gave every approved buyer an advisor.
    await copier.copy(
        "advisor_assignments",
        ["buyer_id", "advisor_id", "assigned_at"],
        ((_uuid("buyer", u), _uuid("advisor", u % ADVISORS), since) for u in range(sizes.buyers)),
    )
    await copier.copy(
        "advisor_loads",
        ["advisor_id", "buyers"],
        (
            (_uuid("advisor", a), sizes.buyers // ADVISORS + (a < sizes.buyers % ADVISORS))
            for a in range(ADVISORS)
        ),
    )
    plan = _plan_preapprovals(sizes, today)
    await copier.copy("applications", APPLICATION_COLUMNS, _applications(plan))
    await copier.copy("preapprovals", PREAPPROVAL_COLUMNS, _preapprovals(plan))
    loans = _plan_loans(plan, sizes, lenders, dealers, versions, today)
    await copier.copy("preapproval_offers", OFFER_COLUMNS, _offers(plan, loans, versions))
    await copier.copy("loans", LOAN_COLUMNS, (loan.row() for loan in loans))
    await copier.copy("loan_installments", INSTALLMENT_COLUMNS, _installments(loans))
    await copier.copy("loan_payments", PAYMENT_COLUMNS, _payments(loans))
    await copier.copy("loan_ledger", LEDGER_COLUMNS, _ledger(loans))
    await copier.copy("dealer_deals", DEAL_COLUMNS, _deals(loans, deal_quote))
    if not checked_per_row:
        await connection.execute("SET session_replication_role = DEFAULT")
        await _check_foreign_keys(connection, report)
    # What a database in service looks like: statistics current, visibility map set (so
    # autovacuum does not start mid-measurement), nothing dirty waiting for a checkpoint.
    report("  VACUUM ANALYZE, CHECKPOINT …")
    await connection.execute("VACUUM ANALYZE")
    await connection.execute("CHECKPOINT")
    copier.seeded.seconds = time.perf_counter() - started
    return copier.seeded


async def _defer_foreign_key_checks(connection: asyncpg.Connection) -> bool:
    """Skip the per-row foreign-key triggers for this session (a superuser's privilege; the
    append-only triggers fire regardless, and refuse only updates and deletes); True if so."""
    try:
        await connection.execute("SET session_replication_role = replica")
    except asyncpg.InsufficientPrivilegeError:
        return False
    return True


async def _check_foreign_keys(
    connection: asyncpg.Connection, report: Callable[[str], None]
) -> None:
    """Every foreign key of the schema holds: one anti-join per constraint, instead of a
    trigger per row (millions of look-ups) while copying."""
    started = time.perf_counter()
    # Each check is written by PostgreSQL itself (format's %I quotes the catalogue's names).
    checks = await connection.fetch(
        """
        SELECT c.conname,
               format('SELECT count(*) FROM %I c WHERE c.%I IS NOT NULL AND NOT EXISTS '
                      '(SELECT 1 FROM %I p WHERE p.%I = c.%I)',
                      child.relname, a.attname, parent.relname, pa.attname, a.attname)
        FROM pg_constraint c
        JOIN pg_class child ON child.oid = c.conrelid
        JOIN pg_class parent ON parent.oid = c.confrelid
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
        WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
          AND c.connamespace = 'public'::regnamespace
        """
    )
    for name, check in checks:
        orphans = await connection.fetchval(check)
        if orphans:
            raise SystemExit(f"{name}: {orphans} rows refer to nothing")
    seconds = time.perf_counter() - started
    report(f"  foreign keys: all {len(checks)} hold ({seconds:.1f} s)")


def _organizations(
    lenders: list[uuid.UUID], dealers: list[uuid.UUID], today: date
) -> Iterator[tuple[Any, ...]]:
    since = _at(today - timedelta(days=1200))
    for kind, ids in (("lender", lenders), ("dealer", dealers)):
        for n, org_id in enumerate(ids):
            body17 = f"9{'1' if kind == 'lender' else '2'}{n:015d}"
            brands = json.dumps(["BYD"]) if kind == "dealer" else "[]"
            city = "上海" if kind == "dealer" else None
            yield (
                org_id,
                kind,
                f"Scale {kind} {n}",
                body17 + uscc_check_character(body17),
                city,
                brands,
                "active",
                since,
            )


@dataclass(frozen=True)
class Version:
    id: uuid.UUID
    lender_id: uuid.UUID
    product_id: uuid.UUID
    markup: Decimal


async def _products(
    copier: Copier, lenders: list[uuid.UUID], count: int, today: date
) -> list[Version]:
    """``count`` product versions: products of 1-7 versions each, one in five retired; the
    current version of each active product, the ones loans are booked on, is returned."""
    products: list[tuple[Any, ...]] = []
    versions: list[tuple[Any, ...]] = []
    current: list[Version] = []
    cap = DEFAULT_POLICY.legal_cap_apr
    terms = json.dumps(list(TERMS))
    vehicle_types = json.dumps(["new", "used"])
    p = 0
    while len(versions) < count:
        product_id, lender_id = _uuid("product", p), lenders[p % len(lenders)]
        version_count = min(1 + p % 7, count - len(versions))
        created = _at(today - timedelta(days=30 * version_count + p % 300))
        active = p % 5 != 4
        products.append(
            (product_id, lender_id, "active" if active else "retired", version_count, created)
        )
        for v in range(1, version_count + 1):
            markup = Decimal(((p * 7 + v * 3) % 40) * 5) / 10_000  # 0 … 1.95 points
            covered = SUB_GRADES[: 15 + (p + v) % 21]  # every card covers A1 … C5 at least
            card = {g: str(min(benchmark_rate(g, DEFAULT_POLICY) + markup, cap)) for g in covered}
            version_id = _uuid("version", len(versions))
            versions.append(
                (
                    version_id,
                    product_id,
                    v,
                    f"Scale loan {p} v{v}",
                    "equal_installment",
                    terms,
                    2_000_000,
                    50_000_000 + (p % 5) * 10_000_000,
                    Decimal("0.8"),
                    Decimal("0.2"),
                    (p % 4) * 50_000,
                    json.dumps(card),
                    vehicle_types,
                    None,
                    p % 10 == 0,
                    True,
                    Decimal("0.01"),
                    created + timedelta(days=30 * (v - 1)),
                )
            )
            if active and v == version_count:
                current.append(Version(version_id, lender_id, product_id, markup))
        p += 1
    await copier.copy(
        "products", ["id", "lender_id", "status", "current_version", "created_at"], products
    )
    await copier.copy(
        "product_versions",
        [
            "id",
            "product_id",
            "version",
            "name",
            "method",
            "terms_months",
            "min_amount",
            "max_amount",
            "max_ltv",
            "min_down_payment_ratio",
            "upfront_fee",
            "rate_card",
            "vehicle_types",
            "subsidy",
            "platform_guarantee",
            "auto_fund",
            "commission_rate",
            "created_at",
        ],
        versions,
    )
    return current


# -- pre-approvals and their applications ----------------------------------------------------------

ACTIVE, CONSUMED, EXPIRED = "active", "consumed", "expired"


@dataclass(frozen=True)
class PreapprovalPlan:
    """Per pre-approval i (buyer i // 4, their applications in date order): its status and
    dates. The last of a buyer's four is still active for one buyer in eight (for one in
    eighty of those its validity ended yesterday: the jobs expire it); one in five overall
    financed a car."""

    status: list[str]
    created: list[date]
    today: date

    def buyer(self, i: int) -> int:
        return i // 4

    def person_hash(self, i: int) -> str:
        return _hash(f"scale-person-{self.buyer(i)}")


def _plan_preapprovals(sizes: Sizes, today: date) -> PreapprovalPlan:
    status: list[str] = []
    created: list[date] = []
    consumed = 0
    span = 1_000  # days over which the history is spread
    for i in range(sizes.preapprovals):
        buyer = i // 4
        if i % 4 == 3 and buyer % 8 == 0:
            status.append(ACTIVE)
            created.append(today - timedelta(days=31 if buyer % 80 == 0 else 1 + buyer % 20))
            continue
        if consumed < (i + 1) * sizes.loans // sizes.preapprovals:
            status.append(CONSUMED)
            consumed += 1
        else:
            status.append(EXPIRED)
        created.append(today - timedelta(days=40 + (i * 7919) % span))
    if consumed < sizes.loans:
        raise SystemExit(f"--loans {sizes.loans} needs more --preapprovals")
    return PreapprovalPlan(status, created, today)


APPLICATION_COLUMNS = [
    "id",
    "buyer_id",
    "channel",
    "person_hash",
    "national_id_encrypted",
    "age",
    "monthly_income",
    "employment_months",
    "housing",
    "existing_monthly_debt",
    "consent",
    "status",
    "decision",
    "grade",
    "score",
    "pd",
    "credit_limit",
    "reasons",
    "scorecard_version",
    "bureau_attempts",
    "created_at",
    "decided_at",
]


def _grade(i: int) -> str:
    return GRADES[(i * 31) % len(GRADES)]


def _credit_limit(i: int) -> int:
    return 20_000_000 + (i % 9) * 5_000_000


def _applications(plan: PreapprovalPlan) -> Iterator[tuple[Any, ...]]:
    consent = json.dumps({"bureau_pull": True})
    for i, created in enumerate(plan.created):
        at = _at(created)
        yield (
            _uuid("application", i),
            _uuid("buyer", plan.buyer(i)),
            "online",
            plan.person_hash(i),
            f"scale-sealed-{plan.buyer(i)}",
            25 + i % 35,
            1_000_000 + (i % 40) * 100_000,
            12 + i % 120,
            ("own", "rent", "mortgage", "family")[i % 4],
            (i % 5) * 100_000,
            consent,
            "decided",
            "approved",
            _grade(i),
            600 + i % 200,
            Decimal("0.0150"),
            _credit_limit(i),
            "[]",
            "scale",
            1,
            at,
            at,
        )


PREAPPROVAL_COLUMNS = [
    "id",
    "application_id",
    "buyer_id",
    "person_hash",
    "code",
    "grade",
    "credit_limit",
    "status",
    "expires_at",
    "created_at",
    "status_changed_at",
]


def _preapprovals(plan: PreapprovalPlan) -> Iterator[tuple[Any, ...]]:
    for i, (status, created) in enumerate(zip(plan.status, plan.created, strict=True)):
        at = _at(created)
        expires = at + timedelta(days=30)
        changed = at + timedelta(days=3) if status == CONSUMED else at
        if status == EXPIRED:
            changed = expires
        yield (
            _uuid("preapproval", i),
            _uuid("application", i),
            _uuid("buyer", plan.buyer(i)),
            plan.person_hash(i),
            # Real codes never contain 0 or 1: these cannot collide with one.
            f"0{i:0{CODE_LENGTH - 1}d}",
            _grade(i),
            _credit_limit(i),
            status,
            expires,
            at,
            changed,
        )


# -- loans --------------------------------------------------------------------------------------


# (n, payment, principal, interest, balance) per instalment
Template = tuple[tuple[int, int, int, int, int], ...]
_schedules: dict[tuple[int, Decimal, int], tuple[Template, Decimal, int]] = {}
_due_dates: dict[tuple[date, int], tuple[date, ...]] = {}


def _schedule(principal: int, rate: Decimal, term: int) -> tuple[Template, Decimal, int]:
    """The pricing package's schedule for these terms, its APR and monthly payment, computed
    once per distinct terms."""
    key = (principal, rate, term)
    if key not in _schedules:
        quote = quote_loan(principal, rate, term)
        rows = tuple((r.n, r.payment, r.principal, r.interest, r.balance) for r in quote.schedule)
        _schedules[key] = (rows, quote.apr, quote.monthly_payment)
    return _schedules[key]


def _dues(loan_date: date, term: int) -> tuple[date, ...]:
    key = (loan_date, term)
    if key not in _due_dates:
        _due_dates[key] = due_dates(loan_date, term)
    return _due_dates[key]


@dataclass(slots=True)
class PlannedLoan:
    n: int
    preapproval: int
    buyer: int
    lender_id: uuid.UUID
    dealer_id: uuid.UUID
    version: Version
    principal: int
    rate: Decimal
    term: int
    loan_date: date
    late_rows: int  # how many of the instalments past their grace are unpaid (0: on time)
    as_of: date  # the day the jobs last ran: yesterday
    id: uuid.UUID = _uuid("loan", 0)
    schedule: Template = ()
    dues: tuple[date, ...] = ()
    status: str = "active"
    dpd: int = 0
    paid: int = 0  # how many instalments are paid
    paid_amount: int = 0

    def __post_init__(self) -> None:
        self.id = _uuid("loan", self.n)
        self.schedule = _schedule(self.principal, self.rate, self.term)[0]
        self.dues = _dues(self.loan_date, self.term)
        past_grace = bisect_left(self.dues, self.as_of - timedelta(days=GRACE_DAYS))
        self.paid = max(0, past_grace - self.late_rows)
        self.paid_amount = sum(r[2] + r[3] for r in self.schedule[: self.paid])
        overdue = self.dues[self.paid] if self.paid < self.term else None
        self.dpd = (self.as_of - overdue).days if overdue and overdue < self.as_of else 0
        if self.paid == self.term:
            self.status = "paid_off"
        # A loan five months behind may pass 180 days today: the jobs charge it off.

    def row(self) -> tuple[Any, ...]:
        _, apr, monthly = _schedule(self.principal, self.rate, self.term)
        created = _at(self.loan_date)
        active = self.status == "active"
        return (
            self.id,
            _uuid("preapproval", self.preapproval),
            _uuid("offer", self.preapproval),
            self.version.id,
            self.lender_id,
            _uuid("buyer", self.buyer),
            self.dealer_id,
            self.status,
            self.principal,
            self.rate,
            apr,
            self.term,
            "equal_installment",
            0,
            monthly,
            _grade(self.preapproval),
            self.n % 10 == 0,
            True,
            self.loan_date,
            json.dumps(VEHICLE | {"vin": numbered(self.n)}),
            self.dpd if active else 0,
            bucket_for(self.dpd) if active else "current",
            self.as_of,
            created,
            None if active else _at(self.dues[-1]),
            created,
            created,
        )


VEHICLE = {"make": "BYD", "model": "Han"}  # each loan's car has its own VIN
LOAN_COLUMNS = [
    "id",
    "preapproval_id",
    "offer_id",
    "product_version_id",
    "lender_id",
    "buyer_id",
    "dealer_id",
    "status",
    "principal",
    "annual_rate",
    "apr",
    "term_months",
    "method",
    "upfront_fee",
    "monthly_payment",
    "grade",
    "platform_guarantee",
    "auto_fund",
    "loan_date",
    "vehicle",
    "days_past_due",
    "bucket",
    "delinquency_as_of",
    "funded_at",
    "closed_at",
    "created_at",
    "status_changed_at",
]


def _plan_loans(
    plan: PreapprovalPlan,
    sizes: Sizes,
    lenders: list[uuid.UUID],
    dealers: list[uuid.UUID],
    versions: list[Version],
    today: date,
) -> list[PlannedLoan]:
    """One loan per consumed pre-approval, booked on a current product version of its lender,
    at every age from new to past its last instalment; one in sixteen is behind (1-5 months)."""
    by_lender: dict[uuid.UUID, list[Version]] = {}
    for version in versions:
        by_lender.setdefault(version.lender_id, []).append(version)
    bench_lender = lenders[0]
    loans: list[PlannedLoan] = []
    yesterday = today - timedelta(days=1)
    for i, status in enumerate(plan.status):
        if status != CONSUMED:
            continue
        n = len(loans)
        lender = lenders[n % len(lenders)]
        # The bench lender's loans are booked on a seeded lender's product version (it has
        # none of its own in the data set): the version only has to exist.
        choices = by_lender.get(lender) or by_lender[next(iter(by_lender))]
        if lender == bench_lender:
            choices = versions
        term = TERMS[n % len(TERMS)]
        age = (n * 7919) % (31 * term + 60)  # days since the loan was made
        loans.append(
            PlannedLoan(
                n=n,
                preapproval=i,
                buyer=plan.buyer(i),
                lender_id=lender,
                dealer_id=dealers[n % len(dealers)],
                version=choices[n % len(choices)],
                principal=PRINCIPALS[(n * 13) % len(PRINCIPALS)],
                rate=RATES[(n * 5) % len(RATES)],
                term=term,
                loan_date=yesterday - timedelta(days=age),
                late_rows=(1 + n % 5) if n % 16 == 7 else 0,
                as_of=yesterday,
            )
        )
    return loans


OFFER_COLUMNS = [
    "id",
    "preapproval_id",
    "product_version_id",
    "lender_id",
    "rank",
    "annual_rate",
    "apr",
    "amount",
    "term_months",
    "monthly_payment",
    "total_cost",
    "details",
]


def _offers(
    plan: PreapprovalPlan, loans: list[PlannedLoan], versions: list[Version]
) -> Iterator[tuple[Any, ...]]:
    """The locked offer each loan was booked on, and one for each active pre-approval (expired
    ones' offers are not needed by anything measured, and would only add copying time)."""
    for loan in loans:
        _, apr, monthly = _schedule(loan.principal, loan.rate, loan.term)
        yield _offer(
            loan.preapproval, loan.version, loan.rate, apr, loan.principal, loan.term, monthly
        )
    for i, status in enumerate(plan.status):
        if status == ACTIVE:
            version = versions[i % len(versions)]
            _, apr, monthly = _schedule(PRINCIPALS[4], RATES[2], 36)
            yield _offer(i, version, RATES[2], apr, PRINCIPALS[4], 36, monthly)


def _offer(
    i: int, version: Version, rate: Decimal, apr: Decimal, amount: int, term: int, monthly: int
) -> tuple[Any, ...]:
    details = {
        "offer_id": str(_uuid("offer", i)),
        "lender_id": str(version.lender_id),
        "product_id": str(version.product_id),
        "annual_rate": str(rate),
        "apr": str(apr),
        "term_months": term,
        "amount": amount,
        "monthly_payment": monthly,
        "method": "equal_installment",
    }
    return (
        _uuid("offer", i),
        _uuid("preapproval", i),
        version.id,
        version.lender_id,
        1,
        rate,
        apr,
        amount,
        term,
        monthly,
        monthly * term - amount,
        json.dumps(details),
    )


INSTALLMENT_COLUMNS = [
    "loan_id",
    "n",
    "due_date",
    "payment",
    "principal",
    "interest",
    "balance",
    "status",
    "interest_charged",
    "paid_amount",
    "late_fee",
    "late_fee_paid",
    "paid_at",
]


def _late_fee(payment: int) -> int:
    # As marketplace.servicing.delinquency's default policy: 5 % of the payment, at most ¥200.
    return min(round_fen(payment * Decimal("0.05")), 20_000)


def _installments(loans: list[PlannedLoan]) -> Iterator[tuple[Any, ...]]:
    for loan in loans:
        late_after = loan.as_of - timedelta(days=GRACE_DAYS)
        loan_id, paid, as_of = loan.id, loan.paid, loan.as_of
        for (n, payment, principal, interest, balance), due in zip(
            loan.schedule, loan.dues, strict=True
        ):
            if n <= paid:
                yield (
                    loan_id,
                    n,
                    due,
                    payment,
                    principal,
                    interest,
                    balance,
                    "paid",
                    interest,
                    principal + interest,
                    0,
                    0,
                    _at(due, 9),
                )
            elif due < late_after:
                yield (
                    loan_id,
                    n,
                    due,
                    payment,
                    principal,
                    interest,
                    balance,
                    "late",
                    interest,
                    0,
                    _late_fee(payment),
                    0,
                    None,
                )
            elif due <= as_of:
                yield (
                    loan_id,
                    n,
                    due,
                    payment,
                    principal,
                    interest,
                    balance,
                    "due",
                    interest,
                    0,
                    0,
                    0,
                    None,
                )
            else:
                yield (
                    loan_id,
                    n,
                    due,
                    payment,
                    principal,
                    interest,
                    balance,
                    "due",
                    None,
                    0,
                    0,
                    0,
                    None,
                )


PAYMENT_COLUMNS = [
    "id",
    "loan_id",
    "buyer_id",
    "kind",
    "installments",
    "amount",
    "status",
    "payment_intent_id",
    "created_at",
    "settled_at",
]


def _payments(loans: list[PlannedLoan]) -> Iterator[tuple[Any, ...]]:
    """One succeeded repayment per loan for every instalment it has paid (so the ledger has one
    payment line per loan, not per month: a lighter, still reconciling, history)."""
    for loan in loans:
        if loan.paid:
            at = _at(loan.as_of - timedelta(days=GRACE_DAYS + 1), 9)
            yield (
                _uuid("payment", loan.n),
                loan.id,
                _uuid("buyer", loan.buyer),
                "installments",
                loan.paid,
                loan.paid_amount,
                "succeeded",
                f"pi_scale_{loan.n}",
                at,
                at,
            )


LEDGER_COLUMNS = [
    "loan_id",
    "entry_type",
    "entry_key",
    "amount",
    "installment_n",
    "payment_id",
    "effective_date",
    "created_at",
]


def _ledger(loans: list[PlannedLoan]) -> Iterator[tuple[Any, ...]]:
    for loan in loans:
        loan_id = loan.id
        yield (
            loan_id,
            "disbursement",
            "disbursement",
            loan.principal,
            None,
            None,
            loan.loan_date,
            _at(loan.loan_date),
        )
        late_after = loan.as_of - timedelta(days=GRACE_DAYS)
        for (n, payment, _, interest, _), due in zip(loan.schedule, loan.dues, strict=True):
            if due > loan.as_of:
                break
            if interest > 0:
                yield (
                    loan_id,
                    "instalment_due",
                    f"instalment_due:{n}",
                    interest,
                    n,
                    None,
                    due,
                    _at(due, 2),
                )
            if n > loan.paid and due < late_after:
                fee_day = due + timedelta(days=GRACE_DAYS + 1)
                yield (
                    loan_id,
                    "late_fee",
                    f"late_fee:{n}",
                    _late_fee(payment),
                    n,
                    None,
                    fee_day,
                    _at(fee_day, 2),
                )
        if loan.paid:
            payment_id = _uuid("payment", loan.n)
            day = loan.as_of - timedelta(days=GRACE_DAYS + 1)
            yield (
                loan_id,
                "payment",
                f"payment:{payment_id}",
                -loan.paid_amount,
                None,
                payment_id,
                day,
                _at(day, 9),
            )


DEAL_COLUMNS = [
    "id",
    "dealer_id",
    "preapproval_id",
    "offer_id",
    "product_version_id",
    "lender_id",
    "buyer_id",
    "created_by",
    "status",
    "vin",
    "make",
    "model",
    "vehicle_type",
    "car_price",
    "down_payment_amount",
    "term_months",
    "principal",
    "annual_rate",
    "apr",
    "monthly_payment",
    "total_interest",
    "total_cost",
    "upfront_fee",
    "method",
    "grade",
    "platform_guarantee",
    "quote",
    "identity_verified_by",
    "loan_id",
    "down_payment_status",
    "payment_intent_id",
    "created_at",
    "updated_at",
    "confirmed_at",
    "down_payment_paid_at",
    "handed_over_at",
]


def _deals(loans: list[PlannedLoan], quote: str) -> Iterator[tuple[Any, ...]]:
    """The handed-over deal each loan came from (``quote``: a real deal's quote, for its
    shape; the figures that matter are in the columns)."""
    for loan in loans:
        _, apr, monthly = _schedule(loan.principal, loan.rate, loan.term)
        interest = monthly * loan.term - loan.principal
        down = loan.principal // 3
        at = _at(loan.loan_date)
        yield (
            _uuid("deal", loan.n),
            loan.dealer_id,
            _uuid("preapproval", loan.preapproval),
            _uuid("offer", loan.preapproval),
            loan.version.id,
            loan.lender_id,
            _uuid("buyer", loan.buyer),
            "api_key:scale",
            "handed_over",
            "LSVAM4187C2184847",
            "BYD",
            "Han",
            "new",
            loan.principal + down,
            down,
            loan.term,
            loan.principal,
            loan.rate,
            apr,
            monthly,
            interest,
            interest,
            0,
            "equal_installment",
            _grade(loan.preapproval),
            loan.n % 10 == 0,
            quote,
            "api_key:scale",
            loan.id,
            "paid",
            f"pi_scale_deal_{loan.n}",
            at,
            at,
            at,
            at,
            at,
        )
