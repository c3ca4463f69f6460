"""What the API benchmarks share: a scratch database, and the data the measured paths need.

Both ``bench/api.py`` (in process) and ``bench/http.py`` (over real HTTP) use these; the
helpers take an ``httpx.AsyncClient``, so they work through the ASGI app or a live server.
Import this module before anything of the project: it sets the benchmark environment.
"""

from __future__ import annotations

import asyncio
import os
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

from marketplace.applications.bureau import sandbox_clean_national_id  # noqa: E402
from marketplace.applications.national_id import age_on  # noqa: E402
from pricing import DEFAULT_POLICY, SUB_GRADES, benchmark_rate  # noqa: E402
from shared import pii  # noqa: E402
from shared.db import Database, plain_url  # noqa: E402
from shared.identity.models import User, UserKind  # noqa: E402
from shared.identity.security import issue_access_token  # noqa: E402
from shared.identity.service import create_or_reset_admin  # noqa: E402
from shared.identity.uscc import uscc_check_character  # noqa: E402

VIN = "LGXC16DF5P1054249"  # BYD Auto (WMI LGX), check digit verified: the deals are for a BYD
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


async def deal(
    http: httpx.AsyncClient, dealer: Headers, approval: dict[str, Any], phone: str
) -> str:
    response = await http.post("/v1/dealer/deals", json=deal_body(approval, phone), headers=dealer)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
