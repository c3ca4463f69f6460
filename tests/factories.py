"""Small typed factories that arrange data through the real services and API."""

from __future__ import annotations

import itertools
import secrets
import uuid
from datetime import date
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal.vin import with_check_digit
from marketplace.applications.bureau import sandbox_clean_national_id
from pricing import DEFAULT_POLICY, SUB_GRADES, benchmark_rate
from shared import pii
from shared.db import Database
from shared.identity.models import User, UserKind
from shared.identity.security import issue_access_token
from shared.identity.service import create_or_reset_admin
from shared.identity.uscc import uscc_check_character
from shared.settings import get_settings

Headers = dict[str, str]
_sequence = itertools.count(1)
_issued_ids: set[str] = set()
# Every phone, national ID and e-mail the factories handed out in this process: the
# personal-data scan (tests/security) greps the logs for each.
PERSONAL_DATA: set[str] = set()

# Argon2 is deliberately slow, so factories reuse one password.
PASSWORD = "correct horse battery"


def unique_email(prefix: str = "user") -> str:
    email = f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"
    PERSONAL_DATA.add(email)
    return email


def valid_uscc() -> str:
    """A fresh, checksum-valid unified social credit code."""
    body = f"91110000{next(_sequence) + uuid.uuid4().int % 10**8:09d}"[:17]
    return body + uscc_check_character(body)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Headers:
    response = await client.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def admin_headers(client: httpx.AsyncClient, session: AsyncSession) -> Headers:
    email = unique_email("admin")
    await create_or_reset_admin(session, email=email, password=PASSWORD)
    await session.commit()
    return await login(client, email)


async def create_organization(
    client: httpx.AsyncClient, admin: Headers, kind: str = "lender", **fields: object
) -> dict[str, object]:
    body: dict[str, object] = {"name": f"Test {kind} {next(_sequence)}", "uscc": valid_uscc()}
    if kind == "dealer":
        body |= {"city": "上海", "brands": ["BYD", "Toyota"]}
    body |= fields
    response = await client.post(f"/v1/admin/{kind}s", json=body, headers=admin)
    assert response.status_code == 201, response.text
    organization: dict[str, object] = response.json()
    return organization


async def staff_headers(
    client: httpx.AsyncClient, admin: Headers, organization_id: object, role: str = "staff"
) -> Headers:
    email = unique_email("staff")
    response = await client.post(
        f"/v1/admin/organizations/{organization_id}/members",
        json={"email": email, "password": PASSWORD, "full_name": "李四", "role": role},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return await login(client, email)


async def api_key_headers(
    client: httpx.AsyncClient, admin: Headers, organization_id: object
) -> Headers:
    response = await client.post(
        f"/v1/admin/organizations/{organization_id}/api-keys", headers=admin
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


_VIN_SERIALS = itertools.count(secrets.randbelow(10**6))


def unique_vin(template: str = "LSVAM4187C2000000") -> str:
    """A valid VIN no other car of this run has: ``template``'s manufacturer and model (SAIC
    Volkswagen by default) with a fresh serial (positions 12 to 17) — a car backs one loan."""
    serial = f"{next(_VIN_SERIALS) % 10**6:06d}"
    return with_check_digit(template[:11] + serial)


def fresh_phone() -> str:
    """A mobile number no other buyer of this run holds (one account per phone)."""
    phone = f"137{next(_sequence) % 10**8:08d}"
    PERSONAL_DATA.add(phone)
    return phone


async def sms_code(client: httpx.AsyncClient, phone: str, purpose: str = "register") -> str:
    """Have a code sent to ``phone`` and read it back from the development sandbox."""
    sent = await client.post("/v1/auth/sms-codes", json={"phone": phone, "purpose": purpose})
    assert sent.status_code == 202, sent.text
    inbox = await client.post("/v1/dev/sms", json={"phone": phone})
    assert inbox.status_code == 200, inbox.text
    return str(next(m["code"] for m in inbox.json() if m["purpose"] == purpose))


def register_body(phone: str, code: str, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "email": unique_email("buyer"),
        "password": PASSWORD,
        "full_name": "张三",
        "phone": phone,
        "sms_code": code,
    }
    return body | overrides


async def buyer_headers(client: httpx.AsyncClient, *, phone: str | None = None) -> Headers:
    """A buyer registered as a person would: a code texted to the phone, then the account."""
    phone = phone or fresh_phone()
    body = register_body(phone, await sms_code(client, phone))
    response = await client.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return await login(client, str(body["email"]))


# --- marketplace ------------------------------------------------------------------------------


def national_id(age: int, *, today: date | None = None) -> str:
    """A fresh valid national ID for someone ``age`` years old today, with a clean sandbox
    bureau file, so an approval does not depend on chance (deterministic)."""
    today = today or date.today()
    number = sandbox_clean_national_id("110105", date(today.year - age, 1, 1), exclude=_issued_ids)
    _issued_ids.add(number)
    PERSONAL_DATA.add(number)
    return number


def application_body(age: int = 35, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "national_id": national_id(age),
        "age": age,
        "monthly_income": 2_500_000,  # ¥25,000
        "employment_months": 96,
        "housing": "own",
        "existing_monthly_debt": 0,
        "consent": {"bureau_pull": True, "share_with_lenders": True},
    }
    body |= overrides
    return body


def fair_rate_card(markup: str = "0") -> dict[str, str]:
    """A rate card at the benchmark rate of every grade (plus ``markup``): fair by construction."""
    return {
        grade: str(benchmark_rate(grade, DEFAULT_POLICY) + Decimal(markup)) for grade in SUB_GRADES
    }


def product_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "Standard auto loan",
        "method": "equal_installment",
        "terms_months": [12, 24, 36, 48, 60],
        "min_amount": 2_000_000,  # ¥20,000
        "max_amount": 50_000_000,  # ¥500,000
        "max_ltv": "0.8",
        "min_down_payment_ratio": "0.2",
        "upfront_fee": 0,
        "rate_card": fair_rate_card(),
        "vehicle_types": ["new", "used"],
        "platform_guarantee": False,
    }
    body |= overrides
    return body


async def create_product(
    client: httpx.AsyncClient, lender: Headers, **overrides: object
) -> dict[str, object]:
    response = await client.post(
        "/v1/lender/products", json=product_body(**overrides), headers=lender
    )
    assert response.status_code == 201, response.text
    product: dict[str, object] = response.json()
    return product


async def lender_with_product(
    client: httpx.AsyncClient, admin: Headers, **overrides: object
) -> tuple[dict[str, object], Headers, dict[str, object]]:
    """A lender organisation, a staff login for it, and one product."""
    lender = await create_organization(client, admin, "lender")
    staff = await staff_headers(client, admin, lender["id"])
    return lender, staff, await create_product(client, staff, **overrides)


# An account applies only for its own ID: each buyer's first application picks the person,
# later ones reuse it (unless the test names another ID, or another age).
_buyer_people: dict[str, tuple[int, str]] = {}


async def apply(client: httpx.AsyncClient, buyer: Headers, **overrides: object) -> httpx.Response:
    age = int(overrides.get("age", 35))  # type: ignore[call-overload]
    if "national_id" not in overrides:
        known = _buyer_people.get(buyer["Authorization"])
        if known is not None and known[0] == age:
            overrides["national_id"] = known[1]
    body = application_body(**overrides)
    _buyer_people.setdefault(buyer["Authorization"], (age, str(body["national_id"])))
    return await client.post("/v1/buyer/applications", json=body, headers=buyer)


def error_fields(response: httpx.Response) -> set[str]:
    """The request fields a 422 names: pydantic's ``fields`` list or a domain error's ``field``."""
    error = response.json()["error"]
    return {f["field"] for f in error.get("fields", [])} | {error.get("field")} - {None}


async def direct_buyers(database: Database, count: int) -> list[tuple[Headers, str]]:
    """Buyer accounts written straight to the database (argon2 is deliberately slow, and not
    what load tests are about): each one's bearer header and phone."""
    phones = [fresh_phone() for _ in range(count)]
    users = [
        User(
            email=unique_email("buyer"),
            full_name="张三",
            phone_encrypted=pii.encrypt(phone),
            phone_hash=pii.lookup_hash(phone),
            kind=UserKind.buyer,
        )
        for phone in phones
    ]
    async with database.sessionmaker() as session, session.begin():
        session.add_all(users)
    secret = get_settings().resolved_secret_key()
    tokens = [issue_access_token(u.id, master_secret=secret, minutes=60) for u in users]
    return [
        ({"Authorization": f"Bearer {token}"}, phone)
        for token, phone in zip(tokens, phones, strict=True)
    ]
