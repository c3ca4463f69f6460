"""Collections: the buyer's mandate and reminders, the lender's (and advisor's) collection
queue with notes and promises, and the platform's guarantee."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from marketplace.collections import guarantee, service
from marketplace.collections.exceptions import (
    CollectionLoanNotFound,
    MandateConflict,
    MandateNotFound,
)
from marketplace.collections.models import CollectionNote, Mandate
from marketplace.collections.repository import AttemptView
from marketplace.collections.schemas import (
    BucketFigures,
    ClaimPublic,
    CollectionQueue,
    ContactHistory,
    DebitAttemptPublic,
    Debtor,
    GuaranteePublic,
    MandateCreate,
    MandatePublic,
    MandateView,
    NoteCreate,
    NotePublic,
    NoticePublic,
    PastDueBucket,
    PromiseCreate,
    QueueItem,
    ReservePublic,
)
from marketplace.servicing.exceptions import (
    LoanNotFound,
    LoanNotRepayable,
    NoPaymentMethod,
    PaymentMethodRejected,
)
from marketplace.servicing.portfolio import BUCKETS
from shared.db import SessionDep
from shared.errors import error_responses
from shared.i18n import current_locale
from shared.identity.principal import (
    AdminPrincipal,
    AdvisorPrincipal,
    BuyerPrincipal,
    LenderPrincipal,
    Principal,
)
from shared.pagination import PageDep
from shared.payments.gateway import (
    PaymentDeclined,
    PaymentGatewayDep,
    PaymentProviderUnavailable,
)

buyer_router = APIRouter(prefix="/v1/buyer", tags=["buyer"])
lender_router = APIRouter(prefix="/v1/lender", tags=["lender"])
advisor_router = APIRouter(prefix="/v1/advisor", tags=["advisor"])
admin_router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _mandate(mandate: Mandate) -> MandatePublic:
    return MandatePublic.model_validate(mandate, from_attributes=True)


def _attempts(attempts: list[AttemptView]) -> list[DebitAttemptPublic]:
    return [
        DebitAttemptPublic(
            installment_n=a.attempt.installment_n,
            attempt=a.attempt.attempt,
            attempted_on=a.attempt.attempted_on,
            amount=a.attempt.amount,
            status=a.status,
            failure_code=a.failure_code,
        )
        for a in attempts
    ]


def _note(note: CollectionNote) -> NotePublic:
    return NotePublic.model_validate(note, from_attributes=True)


# -- buyer -----------------------------------------------------------------------------------


@buyer_router.get("/loans/{loan_id}/mandate", responses=error_responses(LoanNotFound))
async def get_mandate(
    loan_id: uuid.UUID, buyer: BuyerPrincipal, session: SessionDep
) -> MandateView:
    """The loan's automatic-debit mandate (null when none), the text a new one is agreed with,
    and the automatic debits made."""
    state = await service.mandate_state(session, buyer, loan_id, locale=current_locale.get())
    return MandateView(
        mandate=_mandate(state.mandate) if state.mandate else None,
        text_version=service.MANDATE_TEXT_VERSION,
        text=state.text,
        attempts=_attempts(state.attempts),
    )


@buyer_router.post(
    "/loans/{loan_id}/mandate",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        LoanNotFound,
        LoanNotRepayable,
        NoPaymentMethod,
        MandateConflict,
        PaymentMethodRejected,
        PaymentDeclined,
        PaymentProviderUnavailable,
    ),
)
async def authorise_mandate(
    loan_id: uuid.UUID,
    body: MandateCreate,
    buyer: BuyerPrincipal,
    session: SessionDep,
    gateway: PaymentGatewayDep,
) -> MandatePublic:
    """Authorise automatic collection on due dates from the saved card (``{}``) or from
    ``payment_method`` (saved first); replaces a live mandate. The text agreed is kept."""
    mandate = await service.authorise(
        session,
        gateway,
        buyer,
        loan_id,
        payment_method=body.payment_method,
        locale=current_locale.get(),
    )
    return _mandate(mandate)


@buyer_router.delete(
    "/loans/{loan_id}/mandate", responses=error_responses(LoanNotFound, MandateNotFound)
)
async def revoke_mandate(
    loan_id: uuid.UUID, buyer: BuyerPrincipal, session: SessionDep
) -> MandatePublic:
    """Revoke automatic collection: no debit starts after this."""
    return _mandate(await service.revoke(session, buyer, loan_id))


@buyer_router.get("/loans/{loan_id}/reminders", responses=error_responses(LoanNotFound))
async def list_reminders(
    loan_id: uuid.UUID, buyer: BuyerPrincipal, session: SessionDep
) -> list[NoticePublic]:
    """The reminders recorded for the loan (sent, or waiting for contact hours), newest first."""
    notices = await service.buyer_notices(session, buyer, loan_id)
    return [NoticePublic.model_validate(n, from_attributes=True) for n in notices]


# -- the collection queue (lender; advisor for guaranteed loans) -----------------------------


async def _queue(
    principal: Principal,
    session: SessionDep,
    page: PageDep,
    bucket: PastDueBucket | None,
) -> CollectionQueue:
    entries, total, buckets = await service.queue(
        session,
        service.queue_scope(principal),
        bucket=bucket,
        limit=page.limit,
        offset=page.offset,
    )
    return CollectionQueue(
        items=[
            QueueItem(
                loan_id=e.loan.id,
                buyer=Debtor(id=e.loan.buyer_id, name=e.buyer_name, phone_masked=e.phone_masked),
                bucket=e.loan.bucket,
                days_past_due=e.loan.days_past_due,
                overdue_since=e.arrears.overdue_since,
                overdue_amount=e.arrears.overdue_amount,
                late_fees=e.arrears.late_fees,
                balance=e.balance,
                platform_guarantee=e.loan.platform_guarantee,
                mandate_active=e.mandate_active,
                last_contact_at=e.last_contact_at,
                promise=_note(e.promise) if e.promise else None,
            )
            for e in entries
        ],
        total=total,
        limit=page.limit,
        offset=page.offset,
        buckets={
            name: BucketFigures(
                count=buckets.get(name, (0, 0))[0], balance=buckets.get(name, (0, 0))[1]
            )
            for name in BUCKETS[1:]
        },
    )


BucketQuery = Annotated[PastDueBucket | None, Query(description="Only this bucket.")]


@lender_router.get("/collections")
async def lender_collections(
    lender: LenderPrincipal, session: SessionDep, page: PageDep, bucket: BucketQuery = None
) -> CollectionQueue:
    """The lender's collection queue: loans past due, longest overdue first, by bucket."""
    return await _queue(lender, session, page, bucket)


@advisor_router.get("/collections")
async def advisor_collections(
    advisor: AdvisorPrincipal, session: SessionDep, page: PageDep, bucket: BucketQuery = None
) -> CollectionQueue:
    """The platform-guaranteed loans of the advisor's buyers that are past due."""
    return await _queue(advisor, session, page, bucket)


async def _history(principal: Principal, session: SessionDep, loan_id: uuid.UUID) -> ContactHistory:
    found = await service.history(session, service.queue_scope(principal), loan_id)
    return ContactHistory(
        loan_id=found.loan.id,
        notices=[NoticePublic.model_validate(n, from_attributes=True) for n in found.notices],
        notes=[_note(n) for n in found.notes],
        attempts=_attempts(found.attempts),
    )


@lender_router.get("/collections/{loan_id}", responses=error_responses(CollectionLoanNotFound))
async def lender_contact_history(
    loan_id: uuid.UUID, lender: LenderPrincipal, session: SessionDep
) -> ContactHistory:
    """A loan's contact history: reminders, notes, promises and automatic debits."""
    return await _history(lender, session, loan_id)


@advisor_router.get("/collections/{loan_id}", responses=error_responses(CollectionLoanNotFound))
async def advisor_contact_history(
    loan_id: uuid.UUID, advisor: AdvisorPrincipal, session: SessionDep
) -> ContactHistory:
    """A guaranteed loan's contact history (the advisor's buyers only)."""
    return await _history(advisor, session, loan_id)


@lender_router.post(
    "/collections/{loan_id}/notes",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(CollectionLoanNotFound),
)
async def add_note(
    loan_id: uuid.UUID, body: NoteCreate, lender: LenderPrincipal, session: SessionDep
) -> NotePublic:
    """Record a note on a loan (a call made, what was said)."""
    scope = service.queue_scope(lender)
    return _note(await service.add_note(session, lender, scope, loan_id, text=body.text))


@lender_router.post(
    "/collections/{loan_id}/promises",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(CollectionLoanNotFound),
)
async def add_promise(
    loan_id: uuid.UUID, body: PromiseCreate, lender: LenderPrincipal, session: SessionDep
) -> NotePublic:
    """Record the buyer's promise to pay ``amount`` by ``promised_on``."""
    note = await service.add_note(
        session,
        lender,
        service.queue_scope(lender),
        loan_id,
        text=body.text or "",
        promised_amount=body.amount,
        promised_on=body.promised_on,
    )
    return _note(note)


# -- the platform guarantee ------------------------------------------------------------------


@admin_router.get("/guarantee")
async def get_guarantee(
    admin: AdminPrincipal, session: SessionDep, page: PageDep
) -> GuaranteePublic:
    """Guaranteed exposure, claims paid and the reserve; the latest claims (a page)."""
    view = await guarantee.platform_view(session)
    claims, _ = await guarantee.claims_page(session, limit=page.limit, offset=page.offset)
    figures = view.figures
    return GuaranteePublic(
        guaranteed_loans=view.guaranteed_loans,
        guaranteed_outstanding=view.guaranteed_outstanding,
        claims_count=figures.claims_count,
        claims_paid=figures.claims_paid,
        reserve=ReservePublic(
            provisioned=figures.provisioned,
            claims_paid=figures.claims_paid,
            recovered=figures.recovered,
            balance=figures.reserve,
        ),
        claims=[ClaimPublic.model_validate(c, from_attributes=True) for c in claims],
    )
