"""Documents: another tenant's are 404."""

from __future__ import annotations

import httpx

from tests.dealer_portal.conftest import new_dealer
from tests.dealer_portal.decisions.conftest import MANUAL, PDF, confirmed_deal, manual_setup, upload
from tests.factories import Headers, buyer_headers, lender_with_product


async def test_another_tenants_documents_are_404(client: httpx.AsyncClient, admin: Headers) -> None:
    m = await manual_setup(client, admin)
    deal = await confirmed_deal(client, m)
    document = await upload(client, m.dealer, "dealer", deal.deal_id, PDF)
    assert document.status_code == 201, document.text
    doc_id = document.json()["id"]
    own = await client.get(f"/v1/dealer/deals/{deal.deal_id}/documents/{doc_id}", headers=m.dealer)
    assert own.status_code == 200 and own.content == PDF
    mine = await client.get(f"/v1/buyer/deals/{deal.deal_id}/documents/{doc_id}", headers=m.buyer)
    assert mine.status_code == 200

    _, other_dealer = await new_dealer(client, admin)
    other_buyer = await buyer_headers(client)
    _, other_lender, _ = await lender_with_product(client, admin, **MANUAL)
    others = (("dealer", other_dealer), ("buyer", other_buyer), ("lender", other_lender))
    for role, headers in others:
        path = f"/v1/{role}/deals/{deal.deal_id}/documents/{doc_id}"
        read = await client.get(path, headers=headers)
        assert read.status_code == 404, (role, read.text)
        if role != "lender":
            put = await upload(client, headers, role, deal.deal_id, PDF)
            assert put.status_code == 404, (role, put.text)
    contract_of_other = await client.get(
        f"/v1/buyer/loans/{deal.loan_id}/contract", headers=other_buyer
    )
    assert contract_of_other.status_code == 404
    # A scan larger than any JSON body (1 MB) is still a document; past the document limit
    # (10 MB) the body is refused before it is read.
    padded = PDF.replace(b"trailer", b"%" + b"0" * 3 * 1024 * 1024 + b"\ntrailer")
    scan = await upload(client, m.dealer, "dealer", deal.deal_id, padded)
    assert scan.status_code == 201, scan.text
    too_big = await upload(client, m.dealer, "dealer", deal.deal_id, PDF + b"0" * 11 * 1024 * 1024)
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"
