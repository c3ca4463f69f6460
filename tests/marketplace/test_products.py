"""Lenders' products over the lender API: versioned edits, validation, tenancy, and what the
marketplace may match."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.products import service
from marketplace.products.models import Product, ProductVersion
from pricing import ProductTerms, RepaymentMethod, Subsidy, VehicleType
from shared.audit import AuditEntry
from shared.db import Database
from tests.factories import (
    Headers,
    admin_headers,
    api_key_headers,
    buyer_headers,
    create_organization,
    create_product,
    error_fields,
    product_body,
    staff_headers,
)

PRODUCTS = "/v1/lender/products"
RATE_CARD = {"A1": "0.0459", "B1": "0.0689", "G5": "0.2200"}
SUBSIDY = {"brands": ["BYD"], "annual_rate": "0.0199"}
# Brands are stored as catalogue ids, whichever name or alias was sent.
SUBSIDY_STORED = {"brands": ["byd"], "annual_rate": "0.0199"}


@dataclass(frozen=True)
class Lender:
    id: uuid.UUID
    headers: Headers


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> Headers:
    return await admin_headers(client, session)


async def new_lender(client: httpx.AsyncClient, admin: Headers) -> Lender:
    organization = await create_organization(client, admin)
    headers = await staff_headers(client, admin, organization["id"])
    return Lender(uuid.UUID(str(organization["id"])), headers)


@pytest.fixture
async def lender(client: httpx.AsyncClient, admin: Headers) -> Lender:
    return await new_lender(client, admin)


async def test_a_lender_lists_a_product_with_a_staff_login(
    client: httpx.AsyncClient, session: AsyncSession, lender: Lender
) -> None:
    product = await create_product(client, lender.headers, rate_card=RATE_CARD, subsidy=SUBSIDY)
    assert product["lender_id"] == str(lender.id)
    assert product["status"] == "active"
    assert product["version"] == 1
    assert product["auto_fund"] is True
    assert product["rate_card"] == RATE_CARD
    assert product["subsidy"] == SUBSIDY_STORED
    entry = (
        await session.execute(select(AuditEntry).where(col(AuditEntry.subject_id) == product["id"]))
    ).scalar_one()
    assert entry.action == "product.created"
    assert entry.actor.startswith("user:")
    assert entry.after and entry.after["rate_card"]["G5"] == "0.2200"


async def test_a_lender_lists_a_product_with_its_api_key(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    organization = await create_organization(client, admin)
    headers = await api_key_headers(client, admin, organization["id"])
    response = await client.post(PRODUCTS, json=product_body(), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["lender_id"] == organization["id"]
    listed = (await client.get(PRODUCTS, headers=headers)).json()
    assert [p["id"] for p in listed["items"]] == [response.json()["id"]]


async def test_a_patch_makes_version_2_and_keeps_version_1_intact(
    client: httpx.AsyncClient, session: AsyncSession, lender: Lender
) -> None:
    product = await create_product(
        client, lender.headers, rate_card=RATE_CARD, subsidy=SUBSIDY, terms_months=[12, 24]
    )
    response = await client.patch(
        f"{PRODUCTS}/{product['id']}",
        json={"rate_card": {"A1": "0.0399"}, "terms_months": [36, 60]},
        headers=lender.headers,
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["version"] == 2
    assert patched["rate_card"] == {"A1": "0.0399"}
    assert patched["terms_months"] == [36, 60]
    assert patched["name"] == product["name"]  # fields left out keep their value
    assert patched["subsidy"] == product["subsidy"]

    versions = (
        (
            await session.execute(
                select(ProductVersion)
                .where(col(ProductVersion.product_id) == uuid.UUID(str(product["id"])))
                .order_by(col(ProductVersion.version))
            )
        )
        .scalars()
        .all()
    )
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].rate_card == product["rate_card"]
    assert versions[0].terms_months == [12, 24]

    detail = (await client.get(f"{PRODUCTS}/{product['id']}", headers=lender.headers)).json()
    assert detail["version"] == 2
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    assert detail["versions"][0]["rate_card"] == product["rate_card"]
    audit = (
        await session.execute(
            select(AuditEntry).where(
                col(AuditEntry.subject_id) == product["id"],
                col(AuditEntry.action) == "product.updated",
            )
        )
    ).scalar_one()
    assert audit.before == {
        "version": 1,
        "rate_card": product["rate_card"],
        "terms_months": [12, 24],
    }
    assert audit.after == {"version": 2, "rate_card": {"A1": "0.0399"}, "terms_months": [36, 60]}


async def test_a_patch_can_remove_the_subsidy_but_not_null_a_required_field(
    client: httpx.AsyncClient, lender: Lender
) -> None:
    product = await create_product(client, lender.headers)
    url = f"{PRODUCTS}/{product['id']}"
    nulled = await client.patch(url, json={"name": None}, headers=lender.headers)
    assert nulled.status_code == 422
    assert error_fields(nulled) == {"name"}
    added = await client.patch(url, json={"subsidy": SUBSIDY}, headers=lender.headers)
    assert added.json()["subsidy"] == SUBSIDY_STORED
    removed = await client.patch(url, json={"subsidy": None}, headers=lender.headers)
    assert removed.status_code == 200, removed.text
    assert removed.json()["subsidy"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_amount": 1_000_000}, "max_amount"),  # below the current min_amount
        ({"min_amount": 60_000_000}, "max_amount"),  # above the current max_amount
        ({"upfront_fee": 2_000_000}, "upfront_fee"),  # not below the current min_amount
        ({"min_amount": 50_000}, "upfront_fee"),  # the current fee would no longer fit
    ],
)
async def test_a_patch_is_checked_against_the_merged_terms(
    client: httpx.AsyncClient, lender: Lender, changes: dict[str, Any], field: str
) -> None:
    product = await create_product(client, lender.headers, upfront_fee=50_000)
    response = await client.patch(
        f"{PRODUCTS}/{product['id']}", json=changes, headers=lender.headers
    )
    assert response.status_code == 422, response.text
    assert error_fields(response) == {field}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rate_card": {"A1": "0.05", "G5": "0.2401"}}, "rate_card.G5"),
        ({"rate_card": {"A1": "-0.01"}}, "rate_card.A1"),
        ({"rate_card": {"A1": "NaN"}}, "rate_card.A1"),
        ({"rate_card": {"A1": True}}, "rate_card.A1"),
        ({"rate_card": {}}, "rate_card"),
        ({"rate_card": {"H1": "0.05"}}, "rate_card.H1.[key]"),
        ({"subsidy": {"brands": ["BYD"], "annual_rate": "0.25"}}, "subsidy.annual_rate"),
        ({"subsidy": {"brands": [], "annual_rate": "0.01"}}, "subsidy.brands"),
        ({"terms_months": []}, "terms_months"),
        ({"terms_months": [12, 12]}, "terms_months"),
        ({"terms_months": [0]}, "terms_months.0"),
        ({"terms_months": [85]}, "terms_months.0"),
        ({"min_amount": 0}, "min_amount"),
        ({"min_amount": 2_000_000.5}, "min_amount"),
        ({"max_amount": "30000000"}, "max_amount"),
        ({"max_amount": 1_000_000}, "max_amount"),
        ({"min_amount": 50_000, "upfront_fee": 50_000}, "upfront_fee"),
        ({"max_ltv": "0"}, "max_ltv"),
        ({"max_ltv": "1.01"}, "max_ltv"),
        ({"min_down_payment_ratio": "1"}, "min_down_payment_ratio"),
        ({"min_down_payment_ratio": "-0.1"}, "min_down_payment_ratio"),
        ({"upfront_fee": -1}, "upfront_fee"),
        ({"upfront_fee": 2_000_000}, "upfront_fee"),
        ({"vehicle_types": []}, "vehicle_types"),
        ({"vehicle_types": ["new", "boat"]}, "vehicle_types.1"),
        ({"method": "balloon"}, "method"),
    ],
)
async def test_invalid_product_terms_are_refused_naming_the_field(
    client: httpx.AsyncClient, lender: Lender, changes: dict[str, Any], field: str
) -> None:
    response = await client.post(PRODUCTS, json=product_body(**changes), headers=lender.headers)
    assert response.status_code == 422, response.text
    assert error_fields(response) == {field}


@pytest.mark.parametrize(
    "field",
    ["status", "version", "lender_id", "id", "commission_rate", "current_version"],
)
async def test_server_owned_fields_cannot_be_sent(
    client: httpx.AsyncClient, lender: Lender, field: str
) -> None:
    value = str(uuid.uuid4()) if field.endswith("id") else "0.5"
    created = await client.post(
        PRODUCTS, json=product_body(**{field: value}), headers=lender.headers
    )
    assert created.status_code == 422
    assert error_fields(created) == {field}
    product = await create_product(client, lender.headers)
    patched = await client.patch(
        f"{PRODUCTS}/{product['id']}", json={field: value}, headers=lender.headers
    )
    assert patched.status_code == 422
    assert error_fields(patched) == {field}


async def test_a_lender_cannot_see_or_change_another_lenders_product(
    client: httpx.AsyncClient, admin: Headers, lender: Lender
) -> None:
    product = await create_product(client, lender.headers)
    other = await new_lender(client, admin)
    url = f"{PRODUCTS}/{product['id']}"
    assert (await client.get(url, headers=other.headers)).status_code == 404
    patched = await client.patch(url, json={"name": "mine now"}, headers=other.headers)
    assert patched.status_code == 404
    assert patched.json()["error"]["code"] == "product_not_found"
    assert (await client.post(f"{url}/retire", headers=other.headers)).status_code == 404
    assert (await client.get(PRODUCTS, headers=other.headers)).json()["total"] == 0
    unchanged = (await client.get(url, headers=lender.headers)).json()
    assert (unchanged["name"], unchanged["status"]) == (product["name"], "active")


async def test_buyers_and_dealers_cannot_use_the_lender_product_api(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    dealer = await create_organization(client, admin, kind="dealer")
    for headers in (
        await buyer_headers(client),
        await staff_headers(client, admin, dealer["id"]),
        await api_key_headers(client, admin, dealer["id"]),
    ):
        assert (await client.get(PRODUCTS, headers=headers)).status_code == 403
        created = await client.post(PRODUCTS, json=product_body(), headers=headers)
        assert created.status_code == 403
    assert (await client.get(PRODUCTS)).status_code == 401


async def test_products_are_listed_a_page_at_a_time_and_filtered_by_status(
    client: httpx.AsyncClient, lender: Lender
) -> None:
    ids = [(await create_product(client, lender.headers, name=f"产品 {n}"))["id"] for n in range(5)]
    retired = await client.post(f"{PRODUCTS}/{ids[1]}/retire", headers=lender.headers)
    assert retired.status_code == 200

    first = (await client.get(PRODUCTS, params={"limit": 2}, headers=lender.headers)).json()
    rest = (
        await client.get(PRODUCTS, params={"limit": 2, "offset": 2}, headers=lender.headers)
    ).json()
    last = (
        await client.get(PRODUCTS, params={"limit": 2, "offset": 4}, headers=lender.headers)
    ).json()
    assert first["total"] == 5
    assert [p["id"] for p in first["items"] + rest["items"] + last["items"]] == ids

    active = (
        await client.get(PRODUCTS, params={"status": "active"}, headers=lender.headers)
    ).json()
    assert active["total"] == 4
    assert ids[1] not in [p["id"] for p in active["items"]]
    only_retired = (
        await client.get(PRODUCTS, params={"status": "retired"}, headers=lender.headers)
    ).json()
    assert [(p["id"], p["status"]) for p in only_retired["items"]] == [(ids[1], "retired")]
    too_many = await client.get(PRODUCTS, params={"limit": 101}, headers=lender.headers)
    assert too_many.status_code == 422


async def lenders_matchable(session: AsyncSession, lender: Lender) -> list[ProductTerms]:
    return [t for t in await service.matchable_products(session) if t.lender_id == str(lender.id)]


async def test_matching_sees_the_current_version_as_pricing_terms(
    client: httpx.AsyncClient, session: AsyncSession, lender: Lender
) -> None:
    product = await create_product(
        client,
        lender.headers,
        terms_months=[12, 24, 36],
        rate_card=RATE_CARD,
        subsidy=SUBSIDY,
        platform_guarantee=True,
    )
    await client.patch(
        f"{PRODUCTS}/{product['id']}", json={"vehicle_types": ["new"]}, headers=lender.headers
    )
    [terms] = await lenders_matchable(session, lender)
    assert terms.product_id == product["id"]
    assert terms.version == 2
    assert terms.method is RepaymentMethod.EQUAL_INSTALLMENT
    assert terms.terms_months == (12, 24, 36)
    assert terms.rate_card == {
        "A1": Decimal("0.0459"),
        "B1": Decimal("0.0689"),
        "G5": Decimal("0.22"),
    }
    assert terms.max_ltv == Decimal("0.8")
    assert terms.vehicle_types == frozenset({VehicleType.NEW})
    assert terms.subsidy == Subsidy(frozenset({"byd"}), Decimal("0.0199"))
    assert terms.platform_guarantee is True
    assert terms.lender_name.startswith("Test lender")

    [(version_id, same)] = [
        pair
        for pair in await service.matchable_products_with_version_ids(session)
        if pair[1].product_id == product["id"]
    ]
    assert same == terms
    stored = await session.get(ProductVersion, version_id)
    assert stored is not None and stored.version == 2


async def test_a_retired_product_stops_matching_and_cannot_be_changed(
    client: httpx.AsyncClient, session: AsyncSession, lender: Lender
) -> None:
    product = await create_product(client, lender.headers)
    [(version_id, _)] = [
        pair
        for pair in await service.matchable_products_with_version_ids(session)
        if pair[1].product_id == product["id"]
    ]
    url = f"{PRODUCTS}/{product['id']}"
    retired = await client.post(f"{url}/retire", headers=lender.headers)
    assert retired.status_code == 200
    assert retired.json()["status"] == "retired"

    assert await lenders_matchable(session, lender) == []
    patched = await client.patch(url, json={"name": "revived"}, headers=lender.headers)
    assert patched.status_code == 409
    assert patched.json()["error"]["code"] == "product_retired"
    assert (await client.post(f"{url}/retire", headers=lender.headers)).status_code == 409
    # Offers already locked on a version still read its terms.
    locked = await service.product_terms_for_versions(session, [version_id])
    assert locked[version_id].product_id == product["id"]
    actions = (
        (
            await session.execute(
                select(col(AuditEntry.action)).where(col(AuditEntry.subject_id) == product["id"])
            )
        )
        .scalars()
        .all()
    )
    assert sorted(actions) == ["product.created", "product.retired"]


async def test_a_suspended_lenders_products_stop_matching(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, lender: Lender
) -> None:
    await create_product(client, lender.headers)
    assert len(await lenders_matchable(session, lender)) == 1
    suspended = await client.post(f"/v1/admin/organizations/{lender.id}/suspend", headers=admin)
    assert suspended.status_code == 200
    assert await lenders_matchable(session, lender) == []
    await client.post(f"/v1/admin/organizations/{lender.id}/reactivate", headers=admin)
    assert len(await lenders_matchable(session, lender)) == 1


async def test_concurrent_patches_make_consecutive_versions_and_lose_none(
    committed_client: httpx.AsyncClient, committed_database: Database
) -> None:
    async with committed_database.sessionmaker() as session:
        admin = await admin_headers(committed_client, session)
    lender = await new_lender(committed_client, admin)
    product = await create_product(committed_client, lender.headers)
    url = f"{PRODUCTS}/{product['id']}"

    names = [f"edit {n}" for n in range(8)]
    responses = await asyncio.gather(
        *(
            committed_client.patch(url, json={"name": name}, headers=lender.headers)
            for name in names
        )
    )

    assert [r.status_code for r in responses] == [200] * len(names)
    assert sorted(r.json()["version"] for r in responses) == list(range(2, len(names) + 2))
    async with committed_database.sessionmaker() as session:
        stored = await session.get(Product, uuid.UUID(str(product["id"])))
        versions = (
            await session.execute(
                select(col(ProductVersion.version), col(ProductVersion.name))
                .where(col(ProductVersion.product_id) == uuid.UUID(str(product["id"])))
                .order_by(col(ProductVersion.version))
            )
        ).all()
    assert stored is not None and stored.current_version == len(names) + 1
    assert [v for v, _ in versions] == list(range(1, len(names) + 2))
    assert sorted(name for _, name in versions[1:]) == sorted(names)
    by_version = {r.json()["version"]: r.json()["name"] for r in responses}
    assert all(by_version[v] == name for v, name in versions[1:])


async def test_the_prepared_catalogue_is_read_again_only_once_a_change_commits(
    committed_client: httpx.AsyncClient, committed_database: Database
) -> None:
    """Matching reads only the catalogue's generation while no change has committed; a product
    retired in another transaction is matched until that transaction commits, then never."""
    async with committed_database.sessionmaker() as session:
        admin = await admin_headers(committed_client, session)
    lender = await new_lender(committed_client, admin)
    first = await create_product(committed_client, lender.headers)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    async def matchable() -> service.MatchableCatalogue:
        async with committed_database.sessionmaker() as session:
            return await service.matchable_catalogue(session)

    prepared = await matchable()
    event.listen(committed_database.engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await matchable() is prepared
        assert len(statements) == 1 and "catalogue_generation" in statements[0]
        async with committed_database.sessionmaker() as writer:
            await writer.execute(
                update(Product)
                .where(col(Product.id) == uuid.UUID(str(first["id"])))
                .values(status="retired")
            )
            assert await matchable() is prepared  # not committed: not seen
            await writer.commit()
    finally:
        event.remove(committed_database.engine.sync_engine, "before_cursor_execute", count)
    retired = await matchable()
    assert retired.generation != prepared.generation
    ids = [terms.product_id for terms in prepared.catalogue.products]
    assert first["id"] in ids
    assert first["id"] not in [terms.product_id for terms in retired.catalogue.products]

    second = await create_product(committed_client, lender.headers)
    assert second["id"] in [terms.product_id for terms in (await matchable()).catalogue.products]
    suspended = await committed_client.post(
        f"/v1/admin/organizations/{lender.id}/suspend", headers=admin
    )
    assert suspended.status_code == 200
    now = await matchable()
    assert str(lender.id) not in [terms.lender_id for terms in now.catalogue.products]
