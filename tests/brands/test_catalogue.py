"""The brand catalogue: every name and alias leads to one brand id; admins edit it safely."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from shared.brands.catalogue import SEED_BRANDS, name_key
from tests.factories import admin_headers, create_organization, valid_uscc

Headers = dict[str, str]


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> Headers:
    return await admin_headers(client, session)


def test_no_seeded_name_means_two_brands() -> None:
    owners: dict[str, str] = {}
    for brand in SEED_BRANDS:
        for name in (brand.id, brand.name_zh, brand.name_en, *brand.aliases, *brand.manufacturers):
            assert owners.setdefault(name_key(name), brand.id) == brand.id, name


def test_names_compare_without_case_width_spaces_or_dashes() -> None:
    assert name_key("FAW-Volkswagen") == name_key("faw volkswagen") == name_key("ＦＡＷ Volkswagen")
    assert name_key(" 比亚迪 ") == name_key("比亚迪")


async def test_anyone_reads_the_catalogue_as_a_page_with_chinese_and_english_names(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/v1/brands", params={"limit": 100})).json()
    assert page["total"] == len(SEED_BRANDS) and page["limit"] == 100 and page["offset"] == 0
    brands = {item["id"]: item for item in page["items"]}
    assert brands["byd"]["name_zh"] == "比亚迪" and brands["byd"]["name_en"] == "BYD"
    assert "VW" in brands["volkswagen"]["aliases"]
    found = (await client.get("/v1/brands", params={"q": "宝马"})).json()
    assert [item["id"] for item in found["items"]] == ["bmw"]


async def test_a_dealers_brands_are_stored_as_ids_whatever_name_was_typed(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    dealer = await create_organization(
        client, admin, "dealer", brands=["比亚迪", "BYD", "VW", "大众", "宝马"]
    )
    assert dealer["brands"] == ["byd", "volkswagen", "bmw"]


async def test_an_unknown_brand_is_refused_with_the_nearest_one_suggested(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    response = await client.post(
        "/v1/admin/dealers",
        json={"name": "某4S店", "uscc": valid_uscc(), "city": "上海", "brands": ["Toyta"]},
        headers=admin,
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "unknown_brand" and error["field"] == "brands"
    assert error["suggestion"] == {"id": "toyota", "name_zh": "丰田", "name_en": "Toyota"}
    assert "丰田" in error["message"]  # Chinese by default
    english = await client.post(
        "/v1/admin/dealers",
        json={"name": "某4S店", "uscc": valid_uscc(), "city": "上海", "brands": ["Toyta"]},
        headers={**admin, "Accept-Language": "en-US,en;q=0.9"},
    )
    assert english.json()["error"]["message"] == (
        "“Toyta” is not a brand in the catalogue; did you mean Toyota?"
    )


async def test_admins_add_a_brand_and_its_aliases_then_any_of_them_resolves(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    created = await client.post(
        "/v1/admin/brands",
        json={"id": "avatr", "name_zh": "阿维塔", "name_en": "Avatr", "aliases": ["阿维塔科技"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    renamed = await client.patch(
        "/v1/admin/brands/avatr", json={"aliases": ["Avatr Technology"]}, headers=admin
    )
    assert renamed.status_code == 200 and renamed.json()["aliases"] == ["Avatr Technology"]
    dealer = await create_organization(client, admin, "dealer", brands=["avatr technology"])
    assert dealer["brands"] == ["avatr"]
    # The dropped alias no longer leads anywhere.
    dropped = await client.post(
        "/v1/admin/dealers",
        json={"name": "X", "uscc": valid_uscc(), "city": "上海", "brands": ["阿维塔科技"]},
        headers=admin,
    )
    assert dropped.status_code == 422


async def test_a_name_of_another_brand_cannot_be_taken(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    clash = await client.patch("/v1/admin/brands/bmw", json={"aliases": ["BYD"]}, headers=admin)
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "brand_name_taken"
    again = await client.post(
        "/v1/admin/brands",
        json={"id": "byd", "name_zh": "比亚迪2", "name_en": "BYD 2"},
        headers=admin,
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "brand_exists"


async def test_only_admins_edit_the_catalogue(client: httpx.AsyncClient) -> None:
    response = await client.patch("/v1/admin/brands/bmw", json={"name_zh": "宝马汽车"})
    assert response.status_code == 401
