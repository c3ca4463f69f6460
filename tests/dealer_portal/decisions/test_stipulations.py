"""Conditions: stipulations uploaded, reviewed and satisfied before the handover."""

from __future__ import annotations

import httpx

from tests.dealer_portal.decisions.conftest import (
    JPEG,
    PDF,
    PNG,
    confirmed_deal,
    contract,
    dealer_deal,
    decide,
    deliver_paid,
    manual_setup,
    sha,
    sign,
    upload,
)
from tests.factories import Headers

# -- conditions ----------------------------------------------------------------------------------


async def test_conditions_are_uploaded_reviewed_and_satisfied_before_the_handover(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    m = await manual_setup(client, admin)
    deal = await confirmed_deal(client, m)
    missing = await decide(client, m, deal.deal_id, decision="conditions")
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "decision_invalid"
    decided = await decide(
        client,
        m,
        deal.deal_id,
        decision="conditions",
        stipulations=[{"type": "proof_of_income"}, {"type": "id_card"}],
    )
    assert decided.status_code == 200, decided.text
    stips = {s["type"]: s for s in decided.json()["decision"]["stipulations"]}
    assert set(stips) == {"proof_of_income", "id_card"}
    assert all(s["status"] == "pending" and s["due_at"] for s in stips.values())

    fake = await upload(client, m.dealer, "dealer", deal.deal_id, b"hello, not a pdf")
    assert fake.status_code == 422 and fake.json()["error"]["code"] == "document_refused"
    income = await upload(
        client, m.dealer, "dealer", deal.deal_id, PDF, stips["proof_of_income"]["id"]
    )
    assert income.status_code == 201, income.text
    assert income.json()["sha256"] == sha(PDF)
    assert income.json()["stipulation_id"] == stips["proof_of_income"]["id"]
    id_card = await upload(
        client, m.buyer, "buyer", deal.deal_id, JPEG, stips["id_card"]["id"], name="id.jpg"
    )
    assert id_card.status_code == 201, id_card.text

    # The buyer signs and pays while the conditions are open: the car still waits.
    pdf = await contract(client, m, deal.loan_id)
    assert (await sign(client, m, deal.loan_id, sha(pdf))).status_code == 200
    await deliver_paid(client, deal.intent)
    assert (await dealer_deal(client, m, deal.deal_id))["status"] == "confirmed"

    review = f"/v1/lender/deals/{deal.deal_id}/stipulations/"
    no_reason = await client.post(
        review + stips["id_card"]["id"], json={"status": "rejected"}, headers=m.lender
    )
    assert no_reason.status_code == 422
    rejected = await client.post(
        review + stips["id_card"]["id"],
        json={"status": "rejected", "reason": "照片模糊"},
        headers=m.lender,
    )
    assert rejected.status_code == 200, rejected.text
    again = await upload(client, m.buyer, "buyer", deal.deal_id, PNG, stips["id_card"]["id"])
    assert again.status_code == 201, again.text
    lender_file = await client.get(
        f"/v1/lender/deals/{deal.deal_id}/documents/{again.json()['id']}", headers=m.lender
    )
    assert lender_file.status_code == 200 and lender_file.content == PNG
    assert lender_file.headers["content-type"] == "image/png"

    for stip in stips.values():
        ok = await client.post(review + stip["id"], json={"status": "satisfied"}, headers=m.lender)
        assert ok.status_code == 200, ok.text
    handed = await dealer_deal(client, m, deal.deal_id)
    assert handed["decision"]["status"] == "approved"
    assert handed["status"] == "handed_over"
