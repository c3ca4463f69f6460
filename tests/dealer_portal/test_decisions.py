"""The lender's decision on a deal, documents, the counter-offer and the signed contract, on
products that do not auto-fund — every branch on real PostgreSQL, and the races."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pypdf import PdfReader
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.decisions.models import ContractSignature
from marketplace.servicing.models import Loan
from shared.audit import AuditEntry
from shared.db import Database
from shared.webhooks.models import WebhookEvent
from tests.dealer_portal.conftest import (
    StripeLikeGateway,
    committed_admin,
    confirm,
    deal_body,
    intent_object,
    new_dealer,
    pay,
    signed_event,
)
from tests.factories import (
    Headers,
    admin_headers,
    apply,
    buyer_headers,
    fresh_phone,
    lender_with_product,
    sms_code,
)
from tests.stripe_fixtures import LocalStripe

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
MANUAL = {"auto_fund": False}


@dataclass
class Manual:
    """A buyer with a pre-approval on a lender's product that does not auto-fund, a dealer,
    and the lender's staff."""

    buyer: Headers
    phone: str
    preapproval: dict[str, Any]
    dealer: Headers
    lender: Headers
    lender_id: str
    product: dict[str, Any]
    admin: Headers

    def deal_body(self, **overrides: Any) -> dict[str, Any]:
        body = deal_body(_Approved(self), verifier=self.phone[-4:], **overrides)
        return body


@dataclass
class _Approved:  # what conftest's ``deal_body`` reads
    manual: Manual

    @property
    def code(self) -> str:
        return str(self.manual.preapproval["code"])

    @property
    def offer_id(self) -> str:  # the offer on this lender's product (others may exist)
        offers = self.manual.preapproval["offers"]
        product = self.manual.product["id"]
        return str(next(o["offer_id"] for o in offers if o["product_id"] == product))


async def manual_setup(client: httpx.AsyncClient, admin: Headers, **product: Any) -> Manual:
    lender, lender_staff, created = await lender_with_product(client, admin, **(MANUAL | product))
    phone = fresh_phone()
    buyer = await buyer_headers(client, phone=phone)
    response = await apply(client, buyer)
    assert response.status_code == 201, response.text
    preapproval = response.json()["preapproval"]
    _, dealer = await new_dealer(client, admin)
    return Manual(
        buyer, phone, preapproval, dealer, lender_staff, str(lender["id"]), created, admin
    )


@dataclass
class Confirmed:
    deal_id: str
    loan_id: str
    intent: dict[str, Any]  # the down payment's PaymentIntent as Stripe's events carry it


async def confirmed_deal(client: httpx.AsyncClient, m: Manual, **overrides: Any) -> Confirmed:
    quoted = await client.post("/v1/dealer/deals", json=m.deal_body(**overrides), headers=m.dealer)
    assert quoted.status_code == 201, quoted.text
    deal_id = quoted.json()["id"]
    answer = await confirm(client, m.dealer, deal_id)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    deal = body["deal"] | {"payment_intent_id": body["down_payment"]["payment_intent_id"]}
    return Confirmed(deal_id, body["loan_id"], intent_object(deal))


async def deliver_paid(client: httpx.AsyncClient, intent: dict[str, Any]) -> None:
    payload, headers = signed_event("payment_intent.succeeded", intent)
    response = await client.post("/v1/stripe/webhook", content=payload, headers=headers)
    assert response.status_code == 200, response.text


async def dealer_deal(client: httpx.AsyncClient, m: Manual, deal_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/dealer/deals/{deal_id}", headers=m.dealer)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def decide(client: httpx.AsyncClient, m: Manual, deal_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"/v1/lender/deals/{deal_id}/decision", json=body, headers=m.lender)


async def contract(client: httpx.AsyncClient, m: Manual, loan_id: str) -> bytes:
    response = await client.get(f"/v1/buyer/loans/{loan_id}/contract", headers=m.buyer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


async def sign(
    client: httpx.AsyncClient, m: Manual, loan_id: str, sha256: str, code: str | None = None
) -> httpx.Response:
    code = code or await sms_code(client, m.phone, "sign")
    return await client.post(
        f"/v1/buyer/loans/{loan_id}/contract/sign",
        json={"sms_code": code, "sha256": sha256},
        headers=m.buyer,
    )


async def upload(
    client: httpx.AsyncClient,
    headers: Headers,
    role: str,
    deal_id: str,
    data: bytes,
    stipulation_id: str | None = None,
    name: str = "scan.pdf",
) -> httpx.Response:
    form = {"stipulation_id": stipulation_id} if stipulation_id else {}
    return await client.post(
        f"/v1/{role}/deals/{deal_id}/documents",
        files={"file": (name, data, "application/octet-stream")},
        data=form,
        headers=headers,
    )


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> Headers:
    return await admin_headers(client, session)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- auto-fund products: unchanged ---------------------------------------------------------------


async def test_an_auto_fund_product_deal_is_handed_over_at_payment_with_no_decision(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    m = await manual_setup(client, admin, auto_fund=True)
    deal = await confirmed_deal(client, m)
    assert (await dealer_deal(client, m, deal.deal_id))["decision"] is None
    queue = await client.get("/v1/lender/deals", headers=m.lender)
    assert queue.json()["total"] == 0
    await deliver_paid(client, deal.intent)
    assert (await dealer_deal(client, m, deal.deal_id))["status"] == "handed_over"
    refused = await sign(client, m, deal.loan_id, "0" * 64, code="123456")
    assert refused.status_code == 409, refused.text


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


async def test_auto_approve_rules_that_do_not_match_leave_the_deal_waiting_with_a_clock(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    m = await manual_setup(client, admin, auto_approve={"max_amount": 5_000_000})
    deal = await confirmed_deal(client, m)
    decision = (await dealer_deal(client, m, deal.deal_id))["decision"]
    assert decision["status"] == "decision_required" and decision["due_at"] is not None
    assert decision["overdue"] is False
    queue = await client.get("/v1/lender/deals?status=decision_required", headers=m.lender)
    assert [d["id"] for d in queue.json()["items"]] == [deal.deal_id]
    assert queue.json()["items"][0]["decision"]["due_at"] == decision["due_at"]
    # Not signable before the decision; the handover waits for it.
    pdf = await contract(client, m, deal.loan_id)
    early = await sign(client, m, deal.loan_id, sha(pdf), code="123456")
    assert early.status_code == 409 and early.json()["error"]["code"] == "contract_not_available"
    await deliver_paid(client, deal.intent)
    assert (await dealer_deal(client, m, deal.deal_id))["status"] == "confirmed"
    approved = await decide(client, m, deal.deal_id, decision="approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["decision"]["handover_waits_for"] == ["contract_signed"]
    twice = await decide(client, m, deal.deal_id, decision="decline", reasons=["late"])
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "decision_not_expected"
    assert (await sign(client, m, deal.loan_id, sha(pdf))).status_code == 200
    assert (await dealer_deal(client, m, deal.deal_id))["status"] == "handed_over"
    # The lender and the dealer were told at each step, in the transaction of the change.
    told = await session.execute(
        select(col(WebhookEvent.type)).where(
            col(WebhookEvent.data)["deal_id"].astext == deal.deal_id
        )
    )
    assert sorted(told.scalars()) == [
        "deal.decision_required",
        "deal.handed_over",
        "deal.signed",
        "deal.submitted",
    ]


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


# -- counter-offers ------------------------------------------------------------------------------


async def test_an_accepted_counter_offer_books_a_new_loan_whose_contract_needs_a_new_signature(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    m = await manual_setup(client, admin)
    deal = await confirmed_deal(client, m)
    before = await contract(client, m, deal.loan_id)
    lender_view = (await client.get(f"/v1/lender/deals/{deal.deal_id}", headers=m.lender)).json()
    ceiling = lender_view["max_counter_rate"]

    too_dear = await decide(
        client,
        m,
        deal.deal_id,
        decision="counter",
        counter={"amount": 10_000_000, "term_months": 24, "annual_rate": "0.2399"},
    )
    assert too_dear.status_code == 422, too_dear.text
    assert too_dear.json()["error"]["field"] == "counter.annual_rate"
    too_much = await decide(
        client,
        m,
        deal.deal_id,
        decision="counter",
        counter={"amount": 10_000_001, "term_months": 24, "annual_rate": ceiling},
    )
    assert too_much.status_code == 422
    # Lending less would leave the rest of the car unpaid: the down payment is already set.
    too_little = await decide(
        client,
        m,
        deal.deal_id,
        decision="counter",
        counter={"amount": 8_000_000, "term_months": 24, "annual_rate": ceiling},
    )
    assert too_little.status_code == 422
    assert too_little.json()["error"]["field"] == "counter.amount"
    countered = await decide(
        client,
        m,
        deal.deal_id,
        decision="counter",
        counter={"amount": 10_000_000, "term_months": 24, "annual_rate": ceiling},
    )
    assert countered.status_code == 200, countered.text
    mine = (await client.get("/v1/buyer/deals", headers=m.buyer)).json()["items"][0]
    assert mine["decision"]["counter_offer"]["term_months"] == 24

    accepted = await client.post(
        f"/v1/buyer/deals/{deal.deal_id}/counter-offer", json={"accept": True}, headers=m.buyer
    )
    assert accepted.status_code == 200, accepted.text
    new_loan = accepted.json()["loan_id"]
    assert new_loan != deal.loan_id and accepted.json()["principal"] == 10_000_000
    assert accepted.json()["term_months"] == 24
    old = await session.get(Loan, uuid.UUID(deal.loan_id), populate_existing=True)
    assert old is not None and old.status == "cancelled"
    gone = await client.get(f"/v1/buyer/loans/{deal.loan_id}/contract", headers=m.buyer)
    assert gone.status_code == 404

    after = await contract(client, m, new_loan)
    assert sha(after) != sha(before)
    code = await sms_code(client, m.phone, "sign")
    stale = await sign(client, m, new_loan, sha(before), code)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "contract_changed"
    await deliver_paid(client, deal.intent)
    assert (await dealer_deal(client, m, deal.deal_id))["status"] == "confirmed"
    assert (await sign(client, m, new_loan, sha(after), code)).status_code == 200
    handed = await dealer_deal(client, m, deal.deal_id)
    assert handed["status"] == "handed_over" and handed["loan_id"] == new_loan
    loan = await session.get(Loan, uuid.UUID(new_loan), populate_existing=True)
    assert loan is not None and loan.principal == 10_000_000 and loan.term_months == 24


@pytest.mark.parametrize("by", ["buyer_declines_counter", "lender_declines"])
async def test_a_decline_cancels_the_deal_refunds_and_returns_the_credit(
    by: str,
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    localstripe: LocalStripe,
) -> None:
    m = await manual_setup(client, admin)
    deal = await confirmed_deal(client, m)
    await pay(localstripe, deal.intent["id"])
    await deliver_paid(client, deal.intent)
    if by == "lender_declines":
        no_reason = await decide(client, m, deal.deal_id, decision="decline")
        assert no_reason.status_code == 422
        answer = await decide(client, m, deal.deal_id, decision="decline", reasons=["收入不足"])
        assert answer.status_code == 200, answer.text
        assert answer.json()["decision"]["reasons"] == ["收入不足"]
    else:
        ceiling = (await client.get(f"/v1/lender/deals/{deal.deal_id}", headers=m.lender)).json()[
            "max_counter_rate"
        ]
        countered = await decide(
            client,
            m,
            deal.deal_id,
            decision="counter",
            counter={"amount": 10_000_000, "term_months": 24, "annual_rate": ceiling},
        )
        assert countered.status_code == 200, countered.text
        answer = await client.post(
            f"/v1/buyer/deals/{deal.deal_id}/counter-offer",
            json={"accept": False},
            headers=m.buyer,
        )
        assert answer.status_code == 200, answer.text
    seen = await dealer_deal(client, m, deal.deal_id)
    assert seen["status"] == "cancelled" and seen["down_payment_status"] == "refunded"
    assert seen["decision"]["status"] == "declined"
    loan = await session.get(Loan, uuid.UUID(deal.loan_id), populate_existing=True)
    assert loan is not None and loan.status == "cancelled"
    preapproval = await client.get(f"/v1/buyer/preapprovals/{m.preapproval['id']}", headers=m.buyer)
    assert preapproval.json()["status"] == "active"
    late = await decide(client, m, deal.deal_id, decision="approve")
    assert late.status_code == 409


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


# -- races ---------------------------------------------------------------------------------------


async def test_racing_decisions_and_the_three_handover_triggers_resolve_once(
    committed_client: httpx.AsyncClient,
    committed_app: tuple[FastAPI, StripeLikeGateway],
    committed_database: Database,
) -> None:
    client = committed_client
    admin = await committed_admin(client, committed_database)
    m = await manual_setup(client, admin)

    # Ten racing decisions of every kind on one deal: exactly one wins.
    deal = await confirmed_deal(client, m)
    kinds = [
        {"decision": "approve"},
        {"decision": "conditions", "stipulations": [{"type": "bank_statements"}]},
        {"decision": "decline", "reasons": ["policy"]},
    ] * 3 + [{"decision": "approve"}]
    answers = await asyncio.gather(*(decide(client, m, deal.deal_id, **k) for k in kinds))
    assert sorted(a.status_code for a in answers).count(200) == 1, [a.text for a in answers]
    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]

    # Another approval on the same buyer (the first deal may hold it): the last stipulation
    # satisfied, the contract signed and the down payment paid, all at once.
    seen = await dealer_deal(client, m, deal.deal_id)
    if seen["status"] != "cancelled":
        cancelled = await client.post(f"/v1/dealer/deals/{deal.deal_id}/cancel", headers=m.dealer)
        assert cancelled.status_code == 200, cancelled.text
    for _ in range(2):
        deal = await confirmed_deal(client, m)
        decided = await decide(
            client, m, deal.deal_id, decision="conditions", stipulations=[{"type": "id_card"}]
        )
        assert decided.status_code == 200, decided.text
        stipulation = decided.json()["decision"]["stipulations"][0]["id"]
        assert (
            await upload(client, m.dealer, "dealer", deal.deal_id, PDF, stipulation)
        ).status_code == 201
        pdf = await contract(client, m, deal.loan_id)
        code = await sms_code(client, m.phone, "sign")
        satisfy = client.post(
            f"/v1/lender/deals/{deal.deal_id}/stipulations/{stipulation}",
            json={"status": "satisfied"},
            headers=m.lender,
        )
        results = await asyncio.gather(
            satisfy,
            sign(client, m, deal.loan_id, sha(pdf), code),
            deliver_paid(client, deal.intent),
        )
        assert results[0].status_code == 200 and results[1].status_code == 200
        assert (await dealer_deal(client, m, deal.deal_id))["status"] == "handed_over"
        async with committed_database.sessionmaker() as session:
            handed = await session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    col(AuditEntry.action) == "deal.handed_over",
                    col(AuditEntry.subject_id) == deal.deal_id,
                )
            )
            assert handed.scalar_one() == 1
        # The next round needs the credit back: a handed-over deal keeps it, so a new buyer.
        m = await manual_setup(client, admin)
