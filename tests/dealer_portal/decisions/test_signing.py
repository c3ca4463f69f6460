"""The contract and its signature: an auto-approved deal is handed over once signed and paid."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.decisions.models import ContractSignature
from marketplace.servicing.models import Loan
from tests.dealer_portal.decisions.conftest import (
    confirmed_deal,
    contract,
    dealer_deal,
    deliver_paid,
    manual_setup,
    sha,
    sign,
)
from tests.factories import Headers, sms_code

# -- auto-approve, the contract and the signature ------------------------------------------------


async def test_auto_approved_deal_hands_over_once_signed_and_paid(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    m = await manual_setup(client, admin, auto_approve={"max_amount": 20_000_000, "max_ltv": "0.8"})
    deal = await confirmed_deal(client, m)
    seen = await dealer_deal(client, m, deal.deal_id)
    assert seen["decision"]["status"] == "approved"
    assert seen["decision"]["handover_waits_for"] == ["contract_signed", "down_payment"]

    await deliver_paid(client, deal.intent)
    paid = await dealer_deal(client, m, deal.deal_id)
    assert paid["status"] == "confirmed" and paid["down_payment_status"] == "paid"
    assert paid["decision"]["handover_waits_for"] == ["contract_signed"]

    first, second = await contract(client, m, deal.loan_id), await contract(client, m, deal.loan_id)
    assert first == second and first.startswith(b"%PDF-")
    assert b"/FontFile" in first and b"NotoSansCJK" in first  # the font subset is embedded
    content = PdfReader(io.BytesIO(first)).pages[0].extract_text().replace("\x00", "")
    words = "".join(content.split())
    apr = (await dealer_deal(client, m, deal.deal_id))["quote"]["apr"]
    assert "汽车消费贷款合同" in words and "年化利率" in words
    assert f"{Decimal(apr) * 100:.2f}%" in words and seen["vehicle"]["vin"] in words
    code = await sms_code(client, m.phone, "sign")
    other = await sign(client, m, deal.loan_id, sha(first + b" "), code)
    assert other.status_code == 409 and other.json()["error"]["code"] == "contract_changed"
    assert (await dealer_deal(client, m, deal.deal_id))["status"] == "confirmed"

    signed = await sign(client, m, deal.loan_id, sha(first), code)
    assert signed.status_code == 200, signed.text
    assert signed.json()["sha256"] == sha(first)
    done = await dealer_deal(client, m, deal.deal_id)
    assert done["status"] == "handed_over"
    assert done["decision"]["contract_sha256"] == sha(first)
    assert await contract(client, m, deal.loan_id) == first  # the file signed, kept
    again = await sign(client, m, deal.loan_id, sha(first), code="000000")
    assert again.status_code == 409

    signature = (
        await session.execute(
            select(ContractSignature).where(col(ContractSignature.loan_id) == deal.loan_id)
        )
    ).scalar_one()
    assert signature.phone_masked == f"{m.phone[:3]}****{m.phone[-4:]}"
    with pytest.raises(DBAPIError, match="append-only"):
        async with session.begin_nested():
            await session.execute(text("UPDATE contract_signatures SET sha256 = 'x'"))
    loan = await session.get(Loan, uuid.UUID(deal.loan_id), populate_existing=True)
    assert loan is not None and loan.status == "pending_funding"  # the lender funds (#19)
    # Handed over, but the product's default gates still wait for the insurance policy.
    early = await client.post(f"/v1/lender/loans/{deal.loan_id}/fund", headers=m.lender)
    assert early.status_code == 409, early.text
    assert early.json()["error"]["gates"] == ["insurance"]
