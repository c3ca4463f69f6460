"""Routes of the lender's decision, documents, the counter-offer and the contract:
``/v1/lender/deals…``, ``/v1/dealer/deals/{id}/documents|insurance``, ``/v1/buyer/deals…`` and
``/v1/buyer/loans/{id}/contract…``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, UploadFile, status
from fastapi.responses import JSONResponse, Response

from dealer_portal.decisions import (
    counter_offer,
    deals,
    decision,
    insurance,
    signing,
    stipulations,
    uploads,
)
from dealer_portal.decisions.documents import DocumentStoreDep
from dealer_portal.decisions.esignature import ESignatureDep
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
from dealer_portal.decisions.models import DecisionStatus
from dealer_portal.decisions.schemas import (
    CounterOfferAnswer,
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
from marketplace.policy import PolicyDep
from marketplace.servicing.exceptions import LoanNotFound
from shared.db import ReadSessionDep, SessionDep
from shared.errors import error_responses
from shared.idempotency import IDEMPOTENCY_HEADER, IdempotencyKeyInUse
from shared.identity.exceptions import SmsCodeInvalid
from shared.identity.principal import (
    BuyerPrincipal,
    DealerPrincipal,
    LenderPrincipal,
    Principal,
    ReadOnlyLenderPrincipal,
)
from shared.pagination import Page, PageDep
from shared.payments.gateway import PaymentGatewayDep, PaymentProviderUnavailable
from shared.settings import get_settings

lender_router = APIRouter(prefix="/v1/lender", tags=["lender"])
dealer_router = APIRouter(prefix="/v1/dealer", tags=["dealer"])
buyer_router = APIRouter(prefix="/v1/buyer", tags=["buyer"])

IdempotencyKeyHeader = Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER)]
UPLOAD_ERRORS = error_responses(
    DealNotFound,
    DealAlreadyCancelled,
    DocumentRefused,
    StipulationNotFound,
    StipulationNotReviewable,
)
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the contract PDF"}
}
FILE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}},
        "description": "the document's bytes",
    }
}


# -- lender --------------------------------------------------------------------------------------


@lender_router.get("/deals")
async def list_decision_deals(
    lender: ReadOnlyLenderPrincipal,
    session: ReadSessionDep,
    policy: PolicyDep,
    page: PageDep,
    decision_status: Annotated[DecisionStatus | None, Query(alias="status")] = None,
) -> Page[DecisionDeal]:
    """Deals on this lender's products that do not auto-fund; `status=decision_required` is
    the decision queue (the clock due soonest first; `decision.overdue` past the SLA)."""
    items, total = await deals.lender_deals(
        session, lender, decision_status, policy, limit=page.limit, offset=page.offset
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@lender_router.get("/deals/{deal_id}", responses=error_responses(DealNotFound))
async def get_decision_deal(
    deal_id: uuid.UUID, lender: ReadOnlyLenderPrincipal, session: ReadSessionDep, policy: PolicyDep
) -> DecisionDeal:
    """One deal with its stipulations and documents."""
    return await deals.lender_deal(session, lender, deal_id, policy)


@lender_router.post(
    "/deals/{deal_id}/decision",
    response_model=DecisionDeal,
    responses=error_responses(
        DealNotFound,
        DecisionNotExpected,
        DecisionInvalid,
        CounterOfferRefused,
        IdempotencyKeyInUse,
        PaymentProviderUnavailable,
    ),
)
async def decide(
    deal_id: uuid.UUID,
    body: DecisionRequest,
    lender: LenderPrincipal,
    session: SessionDep,
    gateway: PaymentGatewayDep,
    policy: PolicyDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Decide on a deal waiting for this lender: `approve`; `conditions` with `stipulations`
    (`id_card`, `driving_licence`, `proof_of_income`, `bank_statements`, `vehicle_invoice`, each
    due by `due_at`, 7 days by default); `counter` with `{amount, term_months, annual_rate}`
    (the deal's amount, a product term, a rate at most `max_counter_rate`) for the buyer
    to accept or decline; `decline` with `reasons`, which cancels the deal as the dealer's
    `/cancel` does (the down payment refunded, the credit returned). One decision wins (409
    `decision_not_expected` for the others)."""
    answer, replayed = await decision.decide(
        session, gateway, lender, deal_id, body, policy, idempotency_key=idempotency_key
    )
    return answer.to_response(replayed=replayed)


@lender_router.post(
    "/deals/{deal_id}/stipulations/{stipulation_id}",
    responses=error_responses(
        DealNotFound, StipulationNotFound, StipulationNotReviewable, DecisionInvalid
    ),
)
async def review_stipulation(
    deal_id: uuid.UUID,
    stipulation_id: uuid.UUID,
    body: StipulationReview,
    lender: LenderPrincipal,
    session: SessionDep,
    policy: PolicyDep,
) -> DecisionDeal:
    """Mark a stipulation `satisfied` or `rejected` (with a `reason`; the dealer or buyer
    uploads again). When the last one is satisfied the deal is approved."""
    return await stipulations.review_stipulation(
        session, lender, deal_id, stipulation_id, body, policy
    )


@lender_router.get(
    "/deals/{deal_id}/documents/{document_id}",
    response_class=Response,
    responses={**FILE_RESPONSE, **error_responses(DealNotFound, DocumentNotFound)},
)
async def lender_document(
    deal_id: uuid.UUID,
    document_id: uuid.UUID,
    lender: LenderPrincipal,
    session: SessionDep,
    store: DocumentStoreDep,
) -> Response:
    """A document of a deal waiting for (or decided by) this lender."""
    return await _document(session, store, lender, deal_id, document_id)


# -- dealer and buyer: documents -----------------------------------------------------------------


async def _upload(
    session: SessionDep,
    store: DocumentStoreDep,
    uploader: Principal,
    deal_id: uuid.UUID,
    file: UploadFile,
    stipulation_id: uuid.UUID | None,
) -> DocumentPublic:
    data = await file.read(get_settings().max_document_bytes + 1)
    return await uploads.upload_document(session, store, uploader, deal_id, data, stipulation_id)


async def _document(
    session: SessionDep,
    store: DocumentStoreDep,
    reader: Principal,
    deal_id: uuid.UUID,
    document_id: uuid.UUID,
) -> Response:
    data, content_type = await uploads.read_document(session, store, reader, deal_id, document_id)
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


UploadFileField = Annotated[UploadFile, File(description="a PDF, JPEG or PNG")]
StipulationField = Annotated[uuid.UUID | None, Form()]


@dealer_router.post(
    "/deals/{deal_id}/documents", status_code=status.HTTP_201_CREATED, responses=UPLOAD_ERRORS
)
async def dealer_upload(
    deal_id: uuid.UUID,
    file: UploadFileField,
    dealer: DealerPrincipal,
    session: SessionDep,
    store: DocumentStoreDep,
    stipulation_id: StipulationField = None,
) -> DocumentPublic:
    """Upload a document of the deal (multipart `file`; for a stipulation, its
    `stipulation_id`). The content must be a real PDF, JPEG or PNG of at most 10 MB."""
    return await _upload(session, store, dealer, deal_id, file, stipulation_id)


@dealer_router.get(
    "/deals/{deal_id}/documents/{document_id}",
    response_class=Response,
    responses={**FILE_RESPONSE, **error_responses(DealNotFound, DocumentNotFound)},
)
async def dealer_document(
    deal_id: uuid.UUID,
    document_id: uuid.UUID,
    dealer: DealerPrincipal,
    session: SessionDep,
    store: DocumentStoreDep,
) -> Response:
    return await _document(session, store, dealer, deal_id, document_id)


@dealer_router.post(
    "/deals/{deal_id}/insurance",
    responses=error_responses(DealNotFound, InsuranceNotAccepted, DocumentNotFound),
)
async def record_insurance(
    deal_id: uuid.UUID, body: InsuranceRequest, dealer: DealerPrincipal, session: SessionDep
) -> DecisionPublic:
    """The car's insurance policy, with its uploaded document (`document_id`)."""
    return await insurance.record_insurance(session, dealer, deal_id, body)


@buyer_router.get("/deals")
async def list_my_deals(
    buyer: BuyerPrincipal, session: SessionDep, policy: PolicyDep, page: PageDep
) -> Page[DecisionDeal]:
    """The buyer's confirmed deals that wait (or waited) for a lender's decision: the
    counter-offer to answer, the stipulations, the contract to sign."""
    items, total = await deals.buyer_deals(
        session, buyer, policy, limit=page.limit, offset=page.offset
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@buyer_router.post(
    "/deals/{deal_id}/documents", status_code=status.HTTP_201_CREATED, responses=UPLOAD_ERRORS
)
async def buyer_upload(
    deal_id: uuid.UUID,
    file: UploadFileField,
    buyer: BuyerPrincipal,
    session: SessionDep,
    store: DocumentStoreDep,
    stipulation_id: StipulationField = None,
) -> DocumentPublic:
    """Upload one of your own documents for the deal (multipart `file`, optional
    `stipulation_id`)."""
    return await _upload(session, store, buyer, deal_id, file, stipulation_id)


@buyer_router.get(
    "/deals/{deal_id}/documents/{document_id}",
    response_class=Response,
    responses={**FILE_RESPONSE, **error_responses(DealNotFound, DocumentNotFound)},
)
async def buyer_document(
    deal_id: uuid.UUID,
    document_id: uuid.UUID,
    buyer: BuyerPrincipal,
    session: SessionDep,
    store: DocumentStoreDep,
) -> Response:
    return await _document(session, store, buyer, deal_id, document_id)


@buyer_router.post(
    "/deals/{deal_id}/counter-offer",
    response_model=DecisionDeal,
    responses=error_responses(
        DealNotFound, NoCounterOffer, IdempotencyKeyInUse, PaymentProviderUnavailable
    ),
)
async def answer_counter_offer(
    deal_id: uuid.UUID,
    body: CounterOfferAnswer,
    buyer: BuyerPrincipal,
    session: SessionDep,
    gateway: PaymentGatewayDep,
    policy: PolicyDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Accept the lender's counter-offer (a new contract on its terms, to sign) or decline it
    (the deal is cancelled: the down payment refunded, the credit returned)."""
    answer, replayed = await counter_offer.answer_counter_offer(
        session, gateway, buyer, deal_id, body.accept, policy, idempotency_key=idempotency_key
    )
    return answer.to_response(replayed=replayed)


@buyer_router.get(
    "/loans/{loan_id}/contract",
    response_class=Response,
    responses={**PDF_RESPONSE, **error_responses(LoanNotFound, ContractNotAvailable)},
)
async def get_contract(
    loan_id: uuid.UUID, buyer: BuyerPrincipal, session: SessionDep, store: DocumentStoreDep
) -> Response:
    """The loan contract as a PDF (Chinese, fonts embedded): the same bytes on every download
    until it is signed, then the signed file. Its SHA-256 is what `…/contract/sign` takes."""
    pdf = await signing.contract_pdf(session, store, buyer, loan_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="contract-{loan_id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@buyer_router.post(
    "/loans/{loan_id}/contract/sign",
    responses=error_responses(
        LoanNotFound, ContractNotAvailable, ContractChanged, ContractAlreadySigned, SmsCodeInvalid
    ),
)
async def sign_contract(
    loan_id: uuid.UUID,
    body: SignRequest,
    buyer: BuyerPrincipal,
    session: SessionDep,
    store: DocumentStoreDep,
    signer: ESignatureDep,
) -> SignedContract:
    """Sign the contract with a one-time code (`POST /v1/auth/sms-codes` with `purpose:
    "sign"`) and the SHA-256 of the PDF you read; another hash is 409 `contract_changed`."""
    return await signing.sign_contract(session, store, signer, buyer, loan_id, body)


routers = (lender_router, dealer_router, buyer_router)
