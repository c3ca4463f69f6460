"""The lender's decision, stipulations, documents, the counter-offer, the contract and its
signature (the state machine is in ``dealer_portal/decisions/__init__.py``)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal import events as deal_events
from dealer_portal import handover
from dealer_portal.decisions import contract, gate, repository, views
from dealer_portal.decisions.documents import DocumentStore, sniff_content_type
from dealer_portal.decisions.esignature import ESignature
from dealer_portal.decisions.exceptions import (
    ContractAlreadySigned,
    ContractChanged,
    ContractNotAvailable,
    CounterOfferRefused,
    DecisionInvalid,
    DecisionNotExpected,
    DocumentNotFound,
    DocumentRefused,
    InsuranceNotAccepted,
    NoCounterOffer,
    StipulationNotFound,
    StipulationNotReviewable,
)
from dealer_portal.decisions.models import (
    ContractSignature,
    DealDocument,
    DecisionStatus,
    Stipulation,
    StipulationStatus,
)
from dealer_portal.decisions.schemas import (
    CounterTerms,
    DecisionDeal,
    DecisionPublic,
    DecisionRequest,
    DocumentPublic,
    InsuranceRequest,
    SignedContract,
    SignRequest,
    StipulationReview,
)
from dealer_portal.exceptions import DealAlreadyCancelled, DealNotFound
from dealer_portal.models import DealerDeal, DealStatus
from marketplace.servicing import repository as servicing_repository
from marketplace.servicing import service as servicing_service
from marketplace.servicing.exceptions import LoanNotFound
from pricing import PricingInputError, RiskPolicy, assess_rate, due_dates, quote_loan
from shared import audit
from shared.brands import service as brand_service
from shared.db import insert_unique, utcnow
from shared.idempotency import StoredResponse, request_fingerprint
from shared.identifiers import mask_phone
from shared.identity import service as identity_service
from shared.identity.principal import Principal
from shared.observability import event
from shared.payments.gateway import PaymentGateway
from shared.pii import lookup_hash
from shared.settings import get_settings

STIPULATION_DAYS = 7
STIPULATION_NAMES = {
    "id_card": "借款人身份证",
    "driving_licence": "借款人驾驶证",
    "proof_of_income": "收入证明",
    "bank_statements": "银行流水",
    "vehicle_invoice": "购车发票",
}


def _lender_owns(lender: Principal) -> Any:
    return col(DealerDeal.lender_id) == lender.org_id


async def _lender_deal(
    session: AsyncSession, lender: Principal, deal_id: uuid.UUID, *, for_update: bool = False
) -> DealerDeal:
    deal = await repository.deal_for_lender(
        session, deal_id, lender_id=lender.org_id, for_update=for_update
    )
    if deal is None:
        raise DealNotFound()
    return deal


async def lender_view(
    session: AsyncSession, deal: DealerDeal, policy: RiskPolicy, *, documents: bool = True
) -> DecisionDeal:
    return (
        await views.decision_deals(session, [deal], utcnow(), policy, with_documents=documents)
    )[0]


# -- the lender's decision -----------------------------------------------------------------------


def counter_offer(
    deal: DealerDeal, terms: CounterTerms, ceiling: Decimal, policy: RiskPolicy
) -> dict[str, Any]:
    """The counter-offer's figures, or ``CounterOfferRefused`` naming the limit it breaks: the
    deal's amount (the car and its down payment, whose PaymentIntent already exists, do not
    change — lending less would leave part of the car unpaid; to lend less the lender declines
    and the dealer structures the deal again), a term of the product, a rate at most the locked
    offer's and within the grade's fair band, an APR under the cap."""
    if terms.amount != deal.principal:
        raise CounterOfferRefused(field="counter.amount", variant="amount")
    if terms.annual_rate > ceiling:
        raise CounterOfferRefused(
            field="counter.annual_rate", variant="rate", params={"max_rate": str(ceiling)}
        )
    try:
        quote = quote_loan(
            terms.amount, terms.annual_rate, terms.term_months, deal.method, deal.upfront_fee
        )
    except PricingInputError as error:
        raise CounterOfferRefused(field=f"counter.{error.field}", variant="terms") from None
    fairness = assess_rate(terms.annual_rate, deal.grade, policy, quote.apr, deal.vehicle_type)
    if not fairness.fair:
        raise CounterOfferRefused(
            field="counter.annual_rate", variant="rate", params={"max_rate": str(ceiling)}
        )
    return {
        "amount": terms.amount,
        "term_months": terms.term_months,
        "annual_rate": str(terms.annual_rate),
        "apr": str(quote.apr),
        "monthly_payment": quote.monthly_payment,
        "total_cost": quote.total_cost,
    }


async def decide(
    session: AsyncSession,
    gateway: PaymentGateway,
    lender: Principal,
    deal_id: uuid.UUID,
    body: DecisionRequest,
    policy: RiskPolicy,
    *,
    idempotency_key: str | None,
) -> tuple[StoredResponse, bool]:
    """Record the lender's decision on a deal waiting for it (one decision wins: a conditional
    update from ``decision_required``). A decline cancels the deal as ``/cancel`` does."""
    deal = await _lender_deal(session, lender, deal_id)
    now = utcnow()
    if body.decision == "decline":
        return await _decline(session, gateway, lender, deal, body, policy, idempotency_key)

    values: dict[str, Any] = {"decided_at": now}
    if body.decision == "approve":
        values["decision_status"] = DecisionStatus.approved.value
    elif body.decision == "conditions":
        if not body.stipulations:
            raise DecisionInvalid(field="stipulations", variant="stipulations")
        if len({s.type for s in body.stipulations}) != len(body.stipulations):
            raise DecisionInvalid(field="stipulations", variant="stipulations")
        values["decision_status"] = DecisionStatus.conditions.value
    else:
        if body.counter is None:
            raise DecisionInvalid(field="counter", variant="counter")
        ceiling = await views.max_counter_rate(session, deal, policy)
        offer = counter_offer(deal, body.counter, ceiling, policy)
        values["decision_status"] = DecisionStatus.countered.value
        values["counter_offer"] = offer | {"offered_at": now.isoformat(), "answer": None}
    if body.reasons:
        values["decision_reasons"] = body.reasons
    decided = await repository.update_deal(
        session,
        deal_id,
        where=[
            _lender_owns(lender),
            repository.deal_is(DealStatus.confirmed),
            repository.decision_is(DecisionStatus.decision_required),
        ],
        values=values,
        now=now,
    )
    if decided is None:
        raise DecisionNotExpected()
    if body.decision == "conditions":
        assert body.stipulations is not None
        session.add_all(
            Stipulation(
                deal_id=deal_id,
                type=s.type.value,
                due_at=s.due_at or now + timedelta(days=STIPULATION_DAYS),
                created_at=now,
            )
            for s in body.stipulations
        )
        await session.flush()
    audit.record(
        session,
        actor=lender,
        action=f"deal.decision.{body.decision}",
        subject_type="deal",
        subject_id=deal_id,
        before={"decision_status": DecisionStatus.decision_required.value},
        after={
            "decision_status": values["decision_status"],
            "stipulations": [s.type.value for s in body.stipulations or []],
            "counter_offer": values.get("counter_offer"),
        },
    )
    event(f"deal.decision.{body.decision}", deal_id=str(deal_id))
    await gate.hand_over_if_ready(session, deal_id, now)
    view = await lender_view(session, decided, policy)
    return StoredResponse(200, view.model_dump(mode="json")), False


async def _decline(
    session: AsyncSession,
    gateway: PaymentGateway,
    lender: Principal,
    deal: DealerDeal,
    body: DecisionRequest,
    policy: RiskPolicy,
    idempotency_key: str | None,
) -> tuple[StoredResponse, bool]:
    if not body.reasons:
        raise DecisionInvalid(field="reasons", variant="reasons")
    deal_id = deal.id

    async def cancel_deal(session: AsyncSession) -> DealerDeal:
        now = utcnow()
        declined = await repository.update_deal(
            session,
            deal_id,
            where=[
                _lender_owns(lender),
                repository.deal_is(DealStatus.confirmed),
                repository.decision_is(
                    DecisionStatus.decision_required,
                    DecisionStatus.conditions,
                    DecisionStatus.countered,
                ),
            ],
            values={
                "decision_status": DecisionStatus.declined.value,
                "decided_at": now,
                "decision_reasons": body.reasons,
            },
            now=now,
        )
        if declined is None:
            raise DecisionNotExpected()
        audit.record(
            session,
            actor=lender,
            action="deal.decision.decline",
            subject_type="deal",
            subject_id=deal_id,
            after={"decision_status": DecisionStatus.declined.value, "reasons": body.reasons},
        )
        return await handover.cancel_before_handover(
            session, lender, deal_id, now, dealer_id=declined.dealer_id
        )

    async def answer(session: AsyncSession) -> StoredResponse:
        view = await lender_view(session, await _lender_deal(session, lender, deal_id), policy)
        return StoredResponse(200, view.model_dump(mode="json"))

    return await handover.cancel_in_phases(
        session,
        gateway,
        lender,
        deal_id,
        key=idempotency_key or f"autofin-deal-{deal_id}-decline",
        fingerprint=request_fingerprint("POST", f"/v1/lender/deals/{deal_id}/decision", None),
        cancel_deal=cancel_deal,
        answer=answer,
    )


async def review_stipulation(
    session: AsyncSession,
    lender: Principal,
    deal_id: uuid.UUID,
    stipulation_id: uuid.UUID,
    body: StipulationReview,
    policy: RiskPolicy,
) -> DecisionDeal:
    """Mark a stipulation satisfied or rejected (with a reason). The deal row is locked first,
    so two reviews of a deal's last two stipulations queue up and the later one approves it."""
    deal = await _lender_deal(session, lender, deal_id, for_update=True)
    if deal.decision_status != DecisionStatus.conditions.value:
        raise StipulationNotReviewable(variant="decision")
    if await repository.stipulation(session, deal_id, stipulation_id) is None:
        raise StipulationNotFound()
    now = utcnow()
    if body.status == "rejected":
        if body.reason is None:
            raise DecisionInvalid(field="reason", variant="reason")
        expected = [StipulationStatus.submitted]
    else:
        expected = [
            StipulationStatus.pending,
            StipulationStatus.submitted,
            StipulationStatus.rejected,
        ]
    reviewed = await repository.update_stipulation(
        session,
        stipulation_id,
        expected=expected,
        values={
            "status": body.status,
            "reason": body.reason,
            "reviewed_by": lender.actor,
            "reviewed_at": now,
        },
    )
    if reviewed is None:
        raise StipulationNotReviewable()
    audit.record(
        session,
        actor=lender,
        action=f"stipulation.{body.status}",
        subject_type="deal",
        subject_id=deal_id,
        after={"stipulation_id": str(stipulation_id), "type": reviewed.type},
    )
    if body.status == "satisfied":
        approved = await repository.approve_when_stipulations_satisfied(session, deal_id, now)
        if approved is not None:
            audit.record(
                session,
                actor=lender,
                action="deal.decision.conditions_met",
                subject_type="deal",
                subject_id=deal_id,
                before={"decision_status": DecisionStatus.conditions.value},
                after={"decision_status": DecisionStatus.approved.value},
            )
            event("deal.conditions_met", deal_id=str(deal_id))
            await gate.hand_over_if_ready(session, deal_id, now)
    return await lender_view(session, await _lender_deal(session, lender, deal_id), policy)


# -- documents -----------------------------------------------------------------------------------


async def _deal_of(
    session: AsyncSession, principal: Principal, deal_id: uuid.UUID, *, for_update: bool = False
) -> DealerDeal:
    """The deal as ``principal`` may see it: the dealer's own, the buyer's own, or one waiting
    for (or decided by) this lender; anyone else's is 404."""
    if principal.role == "dealer":
        deal = await repository.deal_for_dealer(
            session, deal_id, dealer_id=principal.org_id, for_update=for_update
        )
    elif principal.role == "buyer":
        deal = await repository.deal_for_buyer(
            session, deal_id, buyer_id=principal.uid, for_update=for_update
        )
    else:
        deal = await repository.deal_for_lender(
            session, deal_id, lender_id=principal.org_id, for_update=for_update
        )
    if deal is None:
        raise DealNotFound()
    return deal


async def upload_document(
    session: AsyncSession,
    store: DocumentStore,
    uploader: Principal,
    deal_id: uuid.UUID,
    data: bytes,
    stipulation_id: uuid.UUID | None,
) -> DocumentPublic:
    """Keep an uploaded file of the deal (and, for a stipulation, submit it for review).

    The content decides what it is (a PDF, JPEG or PNG) and it must be at most
    ``AUTOFIN_MAX_DOCUMENT_BYTES``. The bytes are stored first, with nothing held (a file
    whose row never commits is unreferenced and harmless: the store is content-addressed)."""
    limit = get_settings().max_document_bytes
    max_mb = {"max_mb": round(limit / 1024 / 1024, 1)}
    if not data or len(data) > limit:
        raise DocumentRefused(field="file", params=max_mb, variant="size")
    content_type = sniff_content_type(data)
    if content_type is None:
        raise DocumentRefused(field="file", params=max_mb)
    await _deal_of(session, uploader, deal_id)  # 404 before anything is kept
    await session.commit()  # nothing held while the store writes
    sha256 = await store.put(data)
    deal = await _deal_of(session, uploader, deal_id, for_update=True)
    if deal.status == DealStatus.cancelled:
        raise DealAlreadyCancelled()
    now = utcnow()
    document = DealDocument(
        deal_id=deal_id,
        uploaded_by=uploader.actor,
        uploader_role=uploader.role,
        stipulation_id=stipulation_id,
        sha256=sha256,
        content_type=content_type,
        size=len(data),
        created_at=now,
    )
    session.add(document)
    await session.flush()
    if stipulation_id is not None:
        if await repository.stipulation(session, deal_id, stipulation_id) is None:
            raise StipulationNotFound(field="stipulation_id")
        submitted = await repository.update_stipulation(
            session,
            stipulation_id,
            expected=[
                StipulationStatus.pending,
                StipulationStatus.rejected,
                StipulationStatus.submitted,
            ],
            values={"status": StipulationStatus.submitted.value, "document_id": document.id},
        )
        if submitted is None:
            raise StipulationNotReviewable(variant="satisfied")
    audit.record(
        session,
        actor=uploader,
        action="deal.document_uploaded",
        subject_type="deal",
        subject_id=deal_id,
        after={
            "document_id": str(document.id),
            "sha256": sha256,
            "stipulation_id": str(stipulation_id) if stipulation_id else None,
        },
    )
    return DocumentPublic.model_validate(document, from_attributes=True)


async def read_document(
    session: AsyncSession,
    store: DocumentStore,
    reader: Principal,
    deal_id: uuid.UUID,
    document_id: uuid.UUID,
) -> tuple[bytes, str]:
    """A document's bytes and type, for the deal's dealer, buyer or lender; 404 for anyone
    else, exactly as for a document that does not exist."""
    await _deal_of(session, reader, deal_id)
    document = await repository.document(session, deal_id, document_id)
    if document is None:
        raise DocumentNotFound()
    data = await store.get(document.sha256)
    if data is None:
        raise DocumentNotFound()
    return data, document.content_type


async def record_insurance(
    session: AsyncSession, dealer: Principal, deal_id: uuid.UUID, body: InsuranceRequest
) -> DecisionPublic:
    """The car's insurance policy (one of the lender's funding gates), with its document."""
    deal = await _deal_of(session, dealer, deal_id, for_update=True)
    if deal.decision_status in (None, DecisionStatus.declined.value) or deal.status not in (
        DealStatus.confirmed,
        DealStatus.handed_over,
    ):
        raise InsuranceNotAccepted()
    if await repository.document(session, deal_id, body.document_id) is None:
        raise DocumentNotFound(field="document_id")
    now = utcnow()
    insurance = body.model_dump(mode="json")
    updated = await repository.update_deal(
        session, deal_id, where=[], values={"insurance": insurance}, now=now
    )
    assert updated is not None
    audit.record(
        session,
        actor=dealer,
        action="deal.insurance_recorded",
        subject_type="deal",
        subject_id=deal_id,
        after={"document_id": str(body.document_id), "expires_on": insurance["expires_on"]},
    )
    stipulations = await repository.stipulations_of(session, [deal_id])
    decision = views.decision_public(updated, stipulations[deal_id], now)
    assert decision is not None
    return decision


# -- the buyer: counter-offer, contract, signature -----------------------------------------------


async def buyer_deals(
    session: AsyncSession, buyer: Principal, policy: RiskPolicy, *, limit: int, offset: int
) -> tuple[list[DecisionDeal], int]:
    rows, total = await repository.list_for_buyer(session, buyer.uid, limit=limit, offset=offset)
    manual = [row for row in rows if row.decision_status is not None]
    return await views.decision_deals(session, manual, utcnow(), policy), total


async def answer_counter_offer(
    session: AsyncSession,
    gateway: PaymentGateway,
    buyer: Principal,
    deal_id: uuid.UUID,
    accept: bool,
    policy: RiskPolicy,
    *,
    idempotency_key: str | None,
) -> tuple[StoredResponse, bool]:
    """The buyer accepts the lender's counter-offer (the loan is booked again on its terms, so
    its contract is new and needs its own signature) or declines it (the deal is cancelled as
    ``/cancel`` does: the down payment refunded, the credit returned)."""
    deal = await _deal_of(session, buyer, deal_id)
    if deal.decision_status != DecisionStatus.countered.value:
        raise NoCounterOffer()

    async def view(session: AsyncSession) -> StoredResponse:
        found = await _deal_of(session, buyer, deal_id)
        return StoredResponse(
            200,
            (await views.decision_deals(session, [found], utcnow(), policy))[0].model_dump(
                mode="json"
            ),
        )

    if accept:
        await _accept_counter(session, buyer, deal_id)
        return await view(session), False

    async def cancel_deal(session: AsyncSession) -> DealerDeal:
        now = utcnow()
        declined = await repository.update_deal(
            session,
            deal_id,
            where=[
                col(DealerDeal.buyer_id) == buyer.uid,
                repository.deal_is(DealStatus.confirmed),
                repository.decision_is(DecisionStatus.countered),
            ],
            values={
                "decision_status": DecisionStatus.declined.value,
                "decided_at": now,
                "decision_reasons": ["counter_offer_declined"],
                "counter_offer": (deal.counter_offer or {}) | {"answer": "declined"},
            },
            now=now,
        )
        if declined is None:
            raise NoCounterOffer()
        audit.record(
            session,
            actor=buyer,
            action="deal.counter_offer_declined",
            subject_type="deal",
            subject_id=deal_id,
            after={"decision_status": DecisionStatus.declined.value},
        )
        return await handover.cancel_before_handover(
            session, buyer, deal_id, now, dealer_id=declined.dealer_id
        )

    return await handover.cancel_in_phases(
        session,
        gateway,
        buyer,
        deal_id,
        key=idempotency_key or f"autofin-deal-{deal_id}-counter-declined",
        fingerprint=request_fingerprint("POST", f"/v1/buyer/deals/{deal_id}/counter-offer", None),
        cancel_deal=cancel_deal,
        answer=view,
    )


async def _accept_counter(session: AsyncSession, buyer: Principal, deal_id: uuid.UUID) -> None:
    """``countered → approved``: the loan booked on the counter-offer's terms replaces the one
    booked at confirmation (cancelled), in one transaction."""
    now = utcnow()
    accepted = await repository.update_deal(
        session,
        deal_id,
        where=[
            col(DealerDeal.buyer_id) == buyer.uid,
            repository.deal_is(DealStatus.confirmed),
            repository.decision_is(DecisionStatus.countered),
        ],
        values={"decision_status": DecisionStatus.approved.value, "decided_at": now},
        now=now,
    )
    if accepted is None:
        raise NoCounterOffer()
    terms = accepted.counter_offer or {}
    old_loan_id = accepted.loan_id
    assert old_loan_id is not None
    await servicing_service.cancel_before_handover(session, buyer, old_loan_id)
    amount, term = int(terms["amount"]), int(terms["term_months"])
    rate = Decimal(str(terms["annual_rate"]))
    loan = await servicing_service.book_loan(
        session,
        buyer,
        preapproval_id=accepted.preapproval_id,
        offer_id=accepted.offer_id,
        product_version_id=accepted.product_version_id,
        lender_id=accepted.lender_id,
        buyer_id=accepted.buyer_id,
        dealer_id=accepted.dealer_id,
        principal=amount,
        annual_rate=rate,
        term_months=term,
        method=accepted.method,
        upfront_fee=accepted.upfront_fee,
        grade=accepted.grade,
        pd=accepted.pd,
        platform_guarantee=accepted.platform_guarantee,
        auto_fund=False,
        loan_date=now.date(),
        vehicle={
            "vin": accepted.vin,
            "make": accepted.make,
            "model": accepted.model,
            "vehicle_type": accepted.vehicle_type,
            "price": accepted.car_price,
        },
    )
    quote = quote_loan(amount, rate, term, accepted.method, accepted.upfront_fee)
    figures = {
        "amount": amount,
        "term_months": term,
        "annual_rate": str(rate),
        "apr": str(quote.apr),
        "monthly_payment": quote.monthly_payment,
        "total_interest": quote.total_interest,
        "total_cost": quote.total_cost,
        "total_repayment": quote.total_repayment,
        "schedule": [asdict(row) for row in quote.schedule],
    }
    rebooked = await repository.update_deal(
        session,
        deal_id,
        where=[col(DealerDeal.loan_id) == old_loan_id],
        values={
            "loan_id": loan.id,
            "principal": amount,
            "term_months": term,
            "annual_rate": rate,
            "apr": quote.apr,
            "monthly_payment": quote.monthly_payment,
            "total_interest": quote.total_interest,
            "total_cost": quote.total_cost,
            "quote": accepted.quote | figures,
            "counter_offer": terms | {"answer": "accepted"},
        },
        now=now,
    )
    assert rebooked is not None
    audit.record(
        session,
        actor=buyer,
        action="deal.counter_offer_accepted",
        subject_type="deal",
        subject_id=deal_id,
        before={"loan_id": str(old_loan_id), "decision_status": DecisionStatus.countered.value},
        after={
            "loan_id": str(loan.id),
            "decision_status": DecisionStatus.approved.value,
            "principal": amount,
            "term_months": term,
            "annual_rate": str(rate),
        },
    )
    event("deal.counter_offer_accepted", deal_id=str(deal_id), loan_id=str(loan.id))


async def contract_terms(session: AsyncSession, deal: DealerDeal) -> contract.ContractTerms:
    """Everything the contract states, read from the deal, its loan and the parties."""
    assert deal.loan_id is not None
    loan = await servicing_repository.loan_by_id(session, deal.loan_id)
    assert loan is not None
    rows = await servicing_repository.installments(session, loan.id)
    buyer = await repository.user(session, deal.buyer_id)
    assert buyer is not None
    phone = identity_service.phone_of(buyer)
    orgs = await repository.organization_names(session, [deal.lender_id, deal.dealer_id])
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
        schedule=servicing_service.schedule_of(rows),
        due_dates=tuple(due_dates(loan.loan_date, loan.term_months)),
        conditions=tuple(
            f"借款人须提供：{STIPULATION_NAMES.get(s.type, s.type)}" for s in stipulations
        ),
    )


async def _render(session: AsyncSession, deal: DealerDeal) -> bytes:
    terms = await contract_terms(session, deal)
    return await asyncio.to_thread(contract.render, terms)


async def _buyer_loan_deal(
    session: AsyncSession, buyer: Principal, loan_id: uuid.UUID, *, for_update: bool = False
) -> DealerDeal:
    deal = await repository.deal_of_loan_for_buyer(
        session, loan_id, buyer_id=buyer.uid, for_update=for_update
    )
    if deal is None:
        raise LoanNotFound()
    return deal


async def contract_pdf(
    session: AsyncSession, store: DocumentStore, buyer: Principal, loan_id: uuid.UUID
) -> bytes:
    """The buyer's loan contract: once signed, the very file signed (from the document store);
    until then, rendered — the same bytes on every download while the terms stay."""
    deal = await _buyer_loan_deal(session, buyer, loan_id)
    if deal.status == DealStatus.cancelled:
        raise ContractNotAvailable()
    signature = await repository.signature_of(session, loan_id)
    if signature is not None:
        stored = await store.get(signature.sha256)
        if stored is not None:
            return stored
    return await _render(session, deal)


SIGNABLE = (DecisionStatus.conditions, DecisionStatus.approved)


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
    deal = await _buyer_loan_deal(session, buyer, loan_id)
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
    deal = await _buyer_loan_deal(session, buyer, loan_id, for_update=True)
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
    signed = await repository.update_deal(
        session,
        deal.id,
        where=[
            col(DealerDeal.loan_id) == loan_id,
            col(DealerDeal.contract_signed_at).is_(None),
            repository.deal_is(DealStatus.confirmed),
            repository.decision_is(*SIGNABLE),
        ],
        values={"contract_signed_sha256": sha256, "contract_signed_at": now},
        now=now,
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


# -- the lender's queue --------------------------------------------------------------------------


async def lender_deals(
    session: AsyncSession,
    lender: Principal,
    status: DecisionStatus | None,
    policy: RiskPolicy,
    *,
    limit: int,
    offset: int,
) -> tuple[list[DecisionDeal], int]:
    rows, total = await repository.list_for_lender(
        session, lender.org_id, status=status, limit=limit, offset=offset
    )
    return await views.decision_deals(session, rows, utcnow(), policy), total


async def lender_deal(
    session: AsyncSession, lender: Principal, deal_id: uuid.UUID, policy: RiskPolicy
) -> DecisionDeal:
    return await lender_view(session, await _lender_deal(session, lender, deal_id), policy)
