"""Collections' rules for people: buyers' mandates and reminders, collectors' queue and notes.

The jobs' side lives beside this: ``debits`` (automatic debits), ``notices`` (reminders) and
``guarantee`` (claims and the reserve).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.collections import repository
from marketplace.collections.collector import StripeCollector
from marketplace.collections.exceptions import (
    CollectionLoanNotFound,
    MandateConflict,
    MandateNotFound,
)
from marketplace.collections.models import CollectionNote, Mandate, NoteKind, Notice
from marketplace.servicing import payment_methods
from marketplace.servicing import repository as servicing_repository
from marketplace.servicing.exceptions import LoanNotFound, LoanNotRepayable, NoPaymentMethod
from marketplace.servicing.models import Loan, LoanStatus
from shared import audit, i18n, pii
from shared.identifiers import mask_phone
from shared.identity.principal import Principal
from shared.observability import event
from shared.payments.gateway import PaymentGateway
from shared.writes import insert_unique

MANDATE_TEXT_VERSION = "2026-12"


def mandate_text(locale: str, *, card_brand: str | None, card_last4: str | None) -> str:
    """The authorisation a buyer agrees to, in their language, naming the card."""
    if card_last4:
        card = i18n.render(
            i18n.gettext("notices", "card.ending", locale) or "",
            {"brand": (card_brand or "").upper(), "last4": card_last4},
            locale,
        )
    else:
        card = i18n.gettext("notices", "card.any", locale) or ""
    template = i18n.gettext("notices", f"mandate.text.{MANDATE_TEXT_VERSION}", locale)
    assert template is not None
    return i18n.render(template, {"card": card}, locale)


async def _buyer_loan(session: AsyncSession, buyer: Principal, loan_id: uuid.UUID) -> Loan:
    loan = await servicing_repository.buyer_loan(session, loan_id, buyer_id=buyer.uid)
    if loan is None:
        raise LoanNotFound()
    return loan


@dataclass(frozen=True)
class MandateState:
    mandate: Mandate | None
    text: str
    attempts: list[repository.AttemptView]


async def mandate_state(
    session: AsyncSession, buyer: Principal, loan_id: uuid.UUID, *, locale: str
) -> MandateState:
    """The loan's live mandate, the text a new one would carry (with the saved card), and the
    automatic debits made."""
    loan = await _buyer_loan(session, buyer, loan_id)
    profile = await servicing_repository.get_profile(session, buyer.uid)
    return MandateState(
        mandate=await repository.active_mandate(session, loan.id, buyer_id=buyer.uid),
        text=mandate_text(
            locale,
            card_brand=profile.card_brand if profile else None,
            card_last4=profile.card_last4 if profile else None,
        ),
        attempts=await repository.attempts_with_outcome(session, loan.id),
    )


async def authorise(
    session: AsyncSession,
    gateway: PaymentGateway,
    buyer: Principal,
    loan_id: uuid.UUID,
    *,
    payment_method: str | None,
    locale: str,
) -> Mandate:
    """Authorise automatic collection of the loan from the buyer's saved card (or from
    ``payment_method``, saved first), replacing a live mandate; the text agreed is stored."""
    loan = await _buyer_loan(session, buyer, loan_id)
    if loan.status not in (LoanStatus.active, LoanStatus.pending_funding):
        raise LoanNotRepayable()
    if payment_method is not None:
        # Commits the request's session around its Stripe calls (no transaction held).
        await payment_methods.save_payment_method(session, gateway, buyer, payment_method)
    profile = await servicing_repository.get_profile(session, buyer.uid)
    if profile is None or profile.payment_method_id is None:
        raise NoPaymentMethod()
    loan = (
        await servicing_repository.buyer_loan(session, loan_id, buyer_id=buyer.uid, for_update=True)
        or loan
    )
    replaced = await repository.revoke_mandate(session, loan.id, buyer_id=buyer.uid)
    mandate = Mandate(
        loan_id=loan.id,
        buyer_id=buyer.uid,
        collector=StripeCollector.name,
        customer_ref=profile.stripe_customer_id,
        payment_method_ref=profile.payment_method_id,
        card_brand=profile.card_brand,
        card_last4=profile.card_last4,
        text_version=MANDATE_TEXT_VERSION,
        agreed_text=mandate_text(
            locale, card_brand=profile.card_brand, card_last4=profile.card_last4
        ),
        locale=locale,
    )
    if not await insert_unique(session, mandate):
        raise MandateConflict()
    audit.record(
        session,
        actor=buyer,
        action="mandate.authorised",
        subject_type="loan",
        subject_id=loan.id,
        before={"mandate_id": str(replaced.id)} if replaced else None,
        after={
            "mandate_id": str(mandate.id),
            "payment_method_id": mandate.payment_method_ref,
            "text_version": mandate.text_version,
        },
    )
    event("mandate.authorised", loan_id=str(loan.id), mandate_id=str(mandate.id))
    return mandate


async def revoke(session: AsyncSession, buyer: Principal, loan_id: uuid.UUID) -> Mandate:
    """Revoke the loan's live mandate: no debit is started after this (one already in flight
    settles as it would)."""
    loan = await _buyer_loan(session, buyer, loan_id)
    revoked = await repository.revoke_mandate(session, loan.id, buyer_id=buyer.uid)
    if revoked is None:
        raise MandateNotFound()
    audit.record(
        session,
        actor=buyer,
        action="mandate.revoked",
        subject_type="loan",
        subject_id=loan.id,
        after={"mandate_id": str(revoked.id)},
    )
    event("mandate.revoked", loan_id=str(loan.id), mandate_id=str(revoked.id))
    return revoked


async def buyer_notices(
    session: AsyncSession, buyer: Principal, loan_id: uuid.UUID
) -> list[Notice]:
    loan = await _buyer_loan(session, buyer, loan_id)
    return await repository.loan_notices(session, loan.id, buyer_id=buyer.uid)


# -- the collection queue --------------------------------------------------------------------


def queue_scope(principal: Principal) -> repository.QueueScope:
    """Whose queue the caller works: an advisor's, or (lender staff) their lender's."""
    if principal.role == "advisor":
        return repository.AdvisorQueue(advisor_id=principal.uid)
    return repository.LenderQueue(lender_id=principal.org_id)


@dataclass(frozen=True)
class QueueEntry:
    loan: Loan
    buyer_name: str
    phone_masked: str | None
    arrears: repository.Arrears
    balance: int
    mandate_active: bool
    last_contact_at: datetime | None
    promise: CollectionNote | None


async def queue(
    session: AsyncSession,
    scope: repository.QueueScope,
    *,
    bucket: str | None,
    limit: int,
    offset: int,
) -> tuple[list[QueueEntry], int, dict[str, tuple[int, int]]]:
    """Past-due loans in the scope with who owes what since when, the contact history's last
    date and the latest promise; the total; and every bucket's count and balance."""
    rows, total = await repository.queue_page(
        session,
        scope=scope,
        bucket=bucket,
        limit=limit,
        offset=offset,
    )
    loans = [loan for loan, _, _ in rows]
    ids = [loan.id for loan in loans]
    arrears = await repository.arrears_of(session, loans)
    balances = await repository.ledger_balances(session, ids)
    mandates = await repository.active_mandate_loans(session, ids)
    contacts = await repository.last_contacts(session, ids)
    promises = await repository.latest_promises(session, ids)
    entries = [
        QueueEntry(
            loan=loan,
            buyer_name=name,
            phone_masked=mask_phone(pii.decrypt(phone)) if phone else None,
            arrears=arrears.get(loan.id, repository.Arrears(0, 0, None)),
            balance=balances.get(loan.id, 0),
            mandate_active=loan.id in mandates,
            last_contact_at=contacts.get(loan.id),
            promise=promises.get(loan.id),
        )
        for loan, name, phone in rows
    ]
    buckets = await repository.queue_buckets(session, scope=scope)
    return entries, total, buckets


async def _queue_loan(
    session: AsyncSession, scope: repository.QueueScope, loan_id: uuid.UUID
) -> Loan:
    loan = await repository.queue_loan(session, loan_id, scope=scope)
    if loan is None:
        raise CollectionLoanNotFound()
    return loan


@dataclass(frozen=True)
class History:
    loan: Loan
    notices: list[Notice]
    notes: list[CollectionNote]
    attempts: list[repository.AttemptView]


async def history(
    session: AsyncSession, scope: repository.QueueScope, loan_id: uuid.UUID
) -> History:
    """Every reminder, note, promise and automatic debit of a loan in the scope, newest first."""
    loan = await _queue_loan(session, scope, loan_id)
    return History(
        loan=loan,
        notices=await repository.notices_of(session, loan.id),
        notes=await repository.notes_of(session, loan.id),
        attempts=await repository.attempts_with_outcome(session, loan.id),
    )


async def add_note(
    session: AsyncSession,
    author: Principal,
    scope: repository.QueueScope,
    loan_id: uuid.UUID,
    *,
    text: str,
    promised_amount: int | None = None,
    promised_on: date | None = None,
) -> CollectionNote:
    """Record a note on a loan in the scope, or (with an amount and a date) a promise to pay."""
    loan = await _queue_loan(session, scope, loan_id)
    note = CollectionNote(
        loan_id=loan.id,
        author_id=author.uid,
        kind=NoteKind.promise if promised_amount is not None else NoteKind.note,
        text=text,
        promised_amount=promised_amount,
        promised_on=promised_on,
    )
    session.add(note)
    audit.record(
        session,
        actor=author,
        action=f"collection.{note.kind.value}",
        subject_type="loan",
        subject_id=loan.id,
        after={"note_id": str(note.id), "promised_amount": promised_amount},
    )
    await session.flush()
    return note
