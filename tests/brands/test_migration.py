"""The brand migration rewrites the free-text brands already stored as catalogue ids, even in
immutable product versions, and leaves the immutability trigger in force."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest

from autofin import migrate
from shared.db import plain_url
from tests.conftest import create_database, database_url, drop_database


async def test_stored_brands_become_catalogue_ids(server_url: str) -> None:
    name = await create_database(server_url)
    url = database_url(server_url, name)
    try:
        for revision in ("0300_dealer_portal", "0003_under_load"):
            await asyncio.to_thread(migrate.upgrade, url, revision)
        connection = await asyncpg.connect(plain_url(url))
        try:
            lender, dealer, product = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            for org, kind, uscc, brands in (
                (lender, "lender", "911100000000000001", []),
                (dealer, "dealer", "911100000000000002", ["宝马", "BMW", "Unknown Motors"]),
            ):
                await connection.execute(
                    "INSERT INTO organizations (id, kind, name, uscc, brands, status)"
                    " VALUES ($1, $2, 'x', $3, $4::jsonb, 'active')",
                    org,
                    kind,
                    uscc,
                    json.dumps(brands),
                )
            await connection.execute(
                "INSERT INTO products (id, lender_id, status, current_version)"
                " VALUES ($1, $2, 'active', 1)",
                product,
                lender,
            )
            await connection.execute(
                "INSERT INTO product_versions (id, product_id, version, name, method, terms_months,"
                " min_amount, max_amount, max_ltv, min_down_payment_ratio, upfront_fee, rate_card,"
                " vehicle_types, subsidy, platform_guarantee, auto_fund, commission_rate)"
                " VALUES ($1, $2, 1, 'p', 'equal_installment', '[36]', 1, 2, 0.8, 0.2, 0,"
                ' \'{"A1": "0.05"}\', \'["new"]\', $3::jsonb, false, true, 0)',
                uuid.uuid4(),
                product,
                json.dumps({"brands": ["比亚迪", "byd auto"], "annual_rate": "0.0199"}),
            )
        finally:
            await connection.close()

        await asyncio.to_thread(migrate.upgrade, url)

        connection = await asyncpg.connect(plain_url(url))
        try:
            brands = await connection.fetchval(
                "SELECT brands FROM organizations WHERE id = $1", dealer
            )
            assert json.loads(brands) == ["bmw", "Unknown Motors"]
            subsidy = await connection.fetchval("SELECT subsidy FROM product_versions")
            assert json.loads(subsidy) == {"brands": ["byd"], "annual_rate": "0.0199"}
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="immutable"):
                await connection.execute("UPDATE product_versions SET name = 'changed'")
        finally:
            await connection.close()
    finally:
        await drop_database(server_url, name)
