"""The buyer's loan contract: its terms read from the deal, its PDF (rendered until signed,
then the very file signed) and the signature."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import events as deal_events
from dealer_portal.decisions import contract, gate, repository
from dealer_portal.decisions.deals import buyer_loan_deal
from dealer_portal.decisions.documents import DocumentStore
from dealer_portal.decisions.esignature import ESignature
from dealer_portal.decisions.exceptions import (
    ContractAlreadySigned,
    ContractChanged,
    ContractNotAvailable,
)
from dealer_portal.decisions.models import SIGNABLE, ContractSignature
from dealer_portal.decisions.schemas import SignedContract, SignRequest
from dealer_portal.models import DealerDeal, DealStatus
from marketplace.servicing import amounts
from marketplace.servicing import repository as servicing_repository
from pricing import due_dates
from shared import audit
from shared.brands import service as brand_service
from shared.db import utcnow
from shared.identifiers import mask_phone
from shared.identity import service as identity_service
from shared.identity.principal import Principal
from shared.observability import event
from shared.pii import lookup_hash
from shared.writes import insert_unique

STIPULATION_NAMES = {
    "id_card": "借款人身份证",
    "driving_licence": "借款人驾驶证",
    "proof_of_income": "收入证明",
    "bank_statements": "银行流水",
    "vehicle_invoice": "购车发票",
}


async def contract_terms(session: AsyncSession, deal: DealerDeal) -> contract.ContractTerms:
    """Everything the contract states, read from the deal, its loan and the parties."""
    assert deal.loan_id is not None
    loan = await servicing_repository.loan_for_platform(session, deal.loan_id)
    assert loan is not None
    rows = await servicing_repository.installments(session, loan.id)
    buyer = await repository.user(session, deal.buyer_id)
    assert buyer is not None
    phone = identity_service.phone_of(buyer)
    orgs = await servicing_repository.organization_names(session, [deal.lender_id, deal.dealer_id])
    brands = await brand_service.by_id(session, [deal.make])
    brand = brands.get(deal.make)
    stipulations = (await repository.stipulations_of(session, [deal.id]))[deal.id]
    collection = (await servicing_repository.collection_terms(session, [loan.product_version_id]))[
        loan.product_version_id
    ]
    return contract.ContractTerms(
        contract_number=str(loan.id),
        issued_at=loan.created_at,
        lender=orgs.get(deal.lender_id, ""),
        dealer=orgs.get(deal.dealer_id, ""),
        borrower=buyer.full_name,
        borrower_phone_masked=mask_phone(phone) if phone else "—",
        vin=deal.vin,
        make=brand.name_zh if brand is not None else deal.make,
        model=deal.model,
        vehicle_type=deal.vehicle_type,
        car_price=deal.car_price,
        down_payment=deal.down_payment_amount,
        principal=loan.principal,
        annual_rate=loan.annual_rate,
        apr=loan.apr,
        term_months=loan.term_months,
        method=loan.method,
        monthly_payment=loan.monthly_payment,
        upfront_fee=loan.upfront_fee,
        total_interest=sum(row.interest for row in rows),
        platform_guarantee=loan.platform_guarantee,
        late_fee=collection.late_fee,
        grace_days=collection.grace_days,
        schedule=amounts.schedule_of(rows),
        due_dates=tuple(due_dates(loan.loan_date, loan.term_months)),
        conditions=tuple(
            f"借款人须提供：{STIPULATION_NAMES.get(s.type, s.type)}" for s in stipulations
        ),
    )


async def _render(session: AsyncSession, deal: DealerDeal) -> bytes:
    terms = await contract_terms(session, deal)
    return await asyncio.to_thread(contract.render, terms)


async def contract_pdf(
    session: AsyncSession, store: DocumentStore, buyer: Principal, loan_id: uuid.UUID
) -> bytes:
    """The buyer's loan contract: once signed, the very file signed (from the document store);
    until then, rendered — the same bytes on every download while the terms stay."""
    deal = await buyer_loan_deal(session, buyer, loan_id)
    if deal.status == DealStatus.cancelled:
        raise ContractNotAvailable()
    signature = await repository.signature_of(session, loan_id)
    if signature is not None:
        stored = await store.get(signature.sha256)
        if stored is not None:
            return stored
    return await _render(session, deal)


async def sign_contract(
    session: AsyncSession,
    store: DocumentStore,
    signer: ESignature,
    buyer: Principal,
    loan_id: uuid.UUID,
    body: SignRequest,
) -> SignedContract:
    """The buyer signs the contract they read: ``body.sha256`` must be the current contract's
    (409 ``contract_changed`` otherwise), verified by the ``ESignature`` provider (the one-time
    code to the account's verified phone). The signed PDF is kept in the document store, the
    signature record is append-only, and if the approval and the down payment are already
    there the car is handed over."""
    deal = await buyer_loan_deal(session, buyer, loan_id)
    if deal.contract_signed_at is not None:
        raise ContractAlreadySigned()
    if deal.status != DealStatus.confirmed or deal.decision_status not in SIGNABLE:
        raise ContractNotAvailable(variant="not_signable")
    pdf = await _render(session, deal)
    sha256 = hashlib.sha256(pdf).hexdigest()
    if sha256 != body.sha256:
        raise ContractChanged()
    user = await repository.user(session, buyer.uid)
    phone = identity_service.phone_of(user) if user is not None else None
    if phone is None:
        raise ContractNotAvailable(variant="no_phone")
    now = utcnow()
    evidence = await signer.verify(session, phone=phone, code=body.sms_code, sha256=sha256, now=now)
    await store.put(pdf)  # the session was committed by the verification: nothing is held
    deal = await buyer_loan_deal(session, buyer, loan_id, for_update=True)
    signature = ContractSignature(
        loan_id=loan_id,
        deal_id=deal.id,
        buyer_id=buyer.uid,
        sha256=sha256,
        phone_hash=lookup_hash(phone),
        phone_masked=mask_phone(phone),
        provider=evidence.provider,
        verification=evidence.verification,
        signed_at=now,
    )
    signed = await repository.mark_contract_signed(
        session, deal.id, loan_id=loan_id, sha256=sha256, now=now
    )
    if signed is None or not await insert_unique(session, signature):
        raise ContractAlreadySigned()
    audit.record(
        session,
        actor=buyer,
        action="contract.signed",
        subject_type="deal",
        subject_id=deal.id,
        after={"loan_id": str(loan_id), "sha256": sha256, "provider": evidence.provider},
    )
    event("contract.signed", deal_id=str(deal.id), loan_id=str(loan_id))
    await deal_events.deal_signed(session, signed)
    await gate.hand_over_if_ready(session, deal.id, now)
    if evidence.reservation is not None:
        await evidence.reservation.release(session)  # commits the signature with the code's use
    return SignedContract(signed_at=now, sha256=sha256)
