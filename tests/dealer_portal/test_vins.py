"""VINs decoded with vininfo, and a deal's make checked against the car's real maker, so a
subsidy follows the car and not what was typed."""

from __future__ import annotations

import httpx
import pytest

from dealer_portal.vin import with_check_digit
from tests.dealer_portal.conftest import approved_buyer, deal_body, new_dealer

BYD_VIN = "LGXC16DF5P1054249"  # WMI LGX: BYD Auto; model year code P = 2023
BMW_BRILLIANCE_VIN = "LBV5S1105MS000001"  # WMI LBV: BMW Brilliance (华晨宝马)
FAW_VW_VIN = "LFV2A21KX67300218"  # WMI LFV: FAW-Volkswagen
SAIC_GM_VIN = "LSGGA53E8CH000001"  # WMI LSG: SAIC General Motors builds several brands


@pytest.mark.parametrize(
    ("vin", "manufacturer", "brand_id", "model_year"),
    [
        (BYD_VIN, "BYD Auto", "byd", 2023),
        (with_check_digit(BMW_BRILLIANCE_VIN), "BMW Brilliance", "bmw", 2021),
        (FAW_VW_VIN, "FAW-Volkswagen", "volkswagen", 2006),
        (with_check_digit(SAIC_GM_VIN), "SAIC General Motors", None, 2012),
    ],
)
async def test_a_vin_is_decoded_to_its_maker_brand_and_model_year(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    vin: str,
    manufacturer: str,
    brand_id: str | None,
    model_year: int,
) -> None:
    _, dealer = await new_dealer(client, admin)
    response = await client.get(f"/v1/dealer/vins/{vin.lower()}", headers=dealer)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "vin": vin,
        "valid": True,
        "manufacturer": manufacturer,
        "brand_id": brand_id,
        "model_year": model_year,
    }


async def test_a_wrong_check_digit_decodes_as_invalid_and_garbage_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, dealer = await new_dealer(client, admin)
    wrong = BYD_VIN[:8] + ("0" if BYD_VIN[8] != "0" else "1") + BYD_VIN[9:]
    decoded = (await client.get(f"/v1/dealer/vins/{wrong}", headers=dealer)).json()
    assert decoded["valid"] is False and decoded["brand_id"] == "byd"
    garbage = await client.get("/v1/dealer/vins/NOT-A-VIN", headers=dealer)
    assert garbage.status_code == 422 and garbage.json()["error"]["code"] == "invalid_vin"
    buyer_only = await client.get(f"/v1/dealer/vins/{BYD_VIN}")
    assert buyer_only.status_code == 401


async def test_a_byd_vin_on_a_deal_for_a_bmw_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    response = await client.post(
        "/v1/dealer/deals",
        json=deal_body(approved, vin=BYD_VIN, make="BMW"),
        headers=approved.dealer,
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "vin_make_mismatch" and error["field"] == "vehicle.make"
    assert error["message"] == "该车架号（VIN）属于比亚迪车辆，而不是宝马。"
    english = await client.post(
        "/v1/dealer/deals",
        json=deal_body(approved, vin=BYD_VIN, make="宝马"),
        headers={**approved.dealer, "Accept-Language": "en"},
    )
    assert english.json()["error"] == {
        "code": "vin_make_mismatch",
        "message": "The VIN belongs to a BYD car, not a BMW one.",
        "field": "vehicle.make",
    }


async def test_a_deal_stores_the_make_as_the_brand_id_whatever_name_was_typed(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    approved = await approved_buyer(client, admin)
    response = await client.post(
        "/v1/dealer/deals",
        json=deal_body(approved, vin=BYD_VIN, make="比亚迪"),
        headers=approved.dealer,
    )
    assert response.status_code == 201, response.text
    assert response.json()["vehicle"]["make"] == "byd"
    # A maker that builds several brands decides nothing: the typed make stands.
    gm = await client.post(
        "/v1/dealer/deals",
        json=deal_body(approved, vin=with_check_digit(SAIC_GM_VIN), make="别克"),
        headers=approved.dealer,
    )
    assert gm.status_code == 201 and gm.json()["vehicle"]["make"] == "buick"
