"""The car's insurance policy, recorded with its document."""

from __future__ import annotations

import uuid

import httpx

from tests.dealer_portal.decisions.conftest import PDF, confirmed_deal, manual_setup, upload
from tests.factories import Headers


async def test_insurance_is_recorded_with_its_document(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    m = await manual_setup(client, admin)
    deal = await confirmed_deal(client, m)
    body = {"insurer": "中国人保", "policy_number": "PDAA2026", "expires_on": "2027-12-01"}
    unknown = await client.post(
        f"/v1/dealer/deals/{deal.deal_id}/insurance",
        json=body | {"document_id": str(uuid.uuid4())},
        headers=m.dealer,
    )
    assert unknown.status_code == 404
    document = (await upload(client, m.dealer, "dealer", deal.deal_id, PDF)).json()
    recorded = await client.post(
        f"/v1/dealer/deals/{deal.deal_id}/insurance",
        json=body | {"document_id": document["id"]},
        headers=m.dealer,
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["insurance"]["policy_number"] == "PDAA2026"
