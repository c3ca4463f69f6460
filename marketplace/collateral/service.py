"""The collateral registration a funded loan's dealer owes, the daily overdue pass, and the
release (解押) at payoff. Services flush only; every change is a conditional update of the
loan's one record, with an audit entry and a webhook event (``events``) in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.collateral import events, repository
from marketplace.collateral.exceptions import (
    CollateralAlreadyRegistered,
    CollateralAlreadyReleased,
    CollateralDateInvalid,
    CollateralNotFound,
    CollateralNotOpen,
    CollateralNotRegistrable,
    CollateralReleaseNotIssued,
)
from marketplace.collateral.models import CollateralStatus, LoanCollateral
from marketplace.collateral.schemas import CollateralRegistration, CollateralRelease
from marketplace.servicing import repository as loan_repository
from marketplace.servicing.exceptions import LoanNotFound
from marketplace.servicing.models import Loan
from shared import audit, i18n
from shared.db import today, utcnow
from shared.identity.principal import Principal
from shared.observability import event


def is_overdue(record: LoanCollateral) -> bool:
    """Still owed, and flagged by the daily jobs as past its due date."""
    return record.status == CollateralStatus.awaiting and record.overdue_at is not None


# -- the loan's side: opened at funding, closed or released at payoff ----------------------------


async def open_for_funded_loan(session: AsyncSession, loan: Loan | None) -> None:
    """The loan became active (funded): the dealer now owes the registration, due the product's
    ``collateral_days`` after the funding date. Once per loan; nothing for ``None``."""
    if loan is not None:
        await repository.open_for_loan(session, loan.id)


def release_texts(
    *, lender: str, vin: str, registration_number: str, authority: str, paid_off_on: date
) -> dict[str, str]:
    """The release instructions in Chinese and English, naming the lender, the car and the
    registration (from the ``notices`` catalogue)."""
    params = {
        "lender": lender,
        "vin": vin,
        "registration_number": registration_number,
        "authority": authority,
        "paid_off_on": paid_off_on,
    }
    texts = {}
    for key, locale in (("zh", "zh_CN"), ("en", "en")):
        template = i18n.gettext("notices", "collateral.release_instructions", locale)
        assert template is not None
        texts[key] = i18n.render(template, params, locale)
    return texts


async def on_paid_off(session: AsyncSession, loan: Loan | None) -> None:
    """The loan was paid off (in the crediting's transaction): a registered car gets its
    release instructions; one never registered no longer needs to be."""
    if loan is None:
        return
    record = await repository.of_loan_for_platform(session, loan.id)
    if record is None:  # funded before collateral was tracked
        return
    now = utcnow()
    if record.status == CollateralStatus.registered:
        names = await loan_repository.organization_names(session, [loan.lender_id])
        instructions = release_texts(
            lender=names.get(loan.lender_id, ""),
            vin=str(loan.vehicle.get("vin", "")),
            registration_number=record.registration_number or "",
            authority=record.authority or "",
            paid_off_on=(loan.closed_at or now).date(),
        )
        issued = await repository.transition_for_platform(
            session,
            loan.id,
            expected=CollateralStatus.registered,
            new=CollateralStatus.release_issued,
            release_instructions=instructions,
            release_issued_at=now,
        )
        if issued is not None:
            _audit(session, audit.SYSTEM_ACTOR, issued, "collateral.release_issued", record.status)
            await events.release_issued(session, issued)
    elif record.status == CollateralStatus.awaiting:
        closed = await repository.transition_for_platform(
            session, loan.id, expected=CollateralStatus.awaiting, new=CollateralStatus.not_required
        )
        if closed is not None:
            _audit(session, audit.SYSTEM_ACTOR, closed, "collateral.not_required", record.status)


def _audit(
    session: AsyncSession,
    actor: Principal | str,
    record: LoanCollateral,
    action: str,
    before: str,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="loan",
        subject_id=record.loan_id,
        before={"collateral_status": before},
        after={
            "collateral_status": record.status,
            "due_on": record.due_on.isoformat(),
            "overdue_at": record.overdue_at.isoformat() if record.overdue_at else None,
            "document_id": str(record.document_id) if record.document_id else None,
            "release_document_id": (
                str(record.release_document_id) if record.release_document_id else None
            ),
        },
    )
    event(action, loan_id=str(record.loan_id))


# -- the dealer's side ---------------------------------------------------------------------------


def _check_date(value: date, *, not_before: date, field: str) -> None:
    if value > today():
        raise CollateralDateInvalid(field=field, variant="future")
    if value < not_before:
        raise CollateralDateInvalid(field=field, variant="too_early")


async def _dealer_record(
    session: AsyncSession, dealer: Principal, loan_id: uuid.UUID
) -> LoanCollateral:
    record = await repository.dealer_record(session, loan_id, dealer_id=dealer.org_id)
    if record is None:
        raise CollateralNotOpen()
    return record


async def dealer_collateral(
    session: AsyncSession, dealer: Principal, loan_id: uuid.UUID
) -> LoanCollateral:
    """The record of a loan the dealer sold (409 ``collateral_not_open`` before funding)."""
    return await _dealer_record(session, dealer, loan_id)


def _same_registration(record: LoanCollateral, body: CollateralRegistration) -> bool:
    return (
        record.registration_number,
        record.authority,
        record.registered_on,
        record.document_id,
    ) == (body.registration_number, body.authority, body.registered_on, body.document_id)


async def record_registration(
    session: AsyncSession,
    dealer: Principal,
    loan_id: uuid.UUID,
    body: CollateralRegistration,
    *,
    not_before: date,
) -> LoanCollateral:
    """Record the car's registration as the lender's collateral (awaiting → registered), late
    or not. The same registration again answers as the first time did (a retry is safe); a
    different one is 409 ``collateral_already_registered``. The caller has checked that the
    document is one of the deal's."""
    record = await _dealer_record(session, dealer, loan_id)
    _check_date(body.registered_on, not_before=not_before, field="registered_on")
    registered = await repository.dealer_transition(
        session,
        loan_id,
        dealer_id=dealer.org_id,
        expected=CollateralStatus.awaiting,
        new=CollateralStatus.registered,
        registration_number=body.registration_number,
        authority=body.authority,
        registered_on=body.registered_on,
        document_id=body.document_id,
        registered_at=utcnow(),
        registered_by=dealer.actor,
    )
    if registered is None:
        record = await _dealer_record(session, dealer, loan_id)
        if record.status == CollateralStatus.not_required:
            raise CollateralNotRegistrable()
        if _same_registration(record, body):
            return record
        raise CollateralAlreadyRegistered()
    _audit(session, dealer, registered, "collateral.registered", CollateralStatus.awaiting)
    await events.registered(session, registered)
    return registered


async def record_release(
    session: AsyncSession, dealer: Principal, loan_id: uuid.UUID, body: CollateralRelease
) -> LoanCollateral:
    """Record the release done at the vehicle administration office (release_issued →
    released); the same release again answers as before, another is 409."""
    record = await _dealer_record(session, dealer, loan_id)
    if record.release_issued_at is None:
        raise CollateralReleaseNotIssued()
    _check_date(body.released_on, not_before=record.release_issued_at.date(), field="released_on")
    released = await repository.dealer_transition(
        session,
        loan_id,
        dealer_id=dealer.org_id,
        expected=CollateralStatus.release_issued,
        new=CollateralStatus.released,
        released_on=body.released_on,
        release_document_id=body.document_id,
        released_at=utcnow(),
        released_by=dealer.actor,
    )
    if released is None:
        record = await _dealer_record(session, dealer, loan_id)
        if (record.released_on, record.release_document_id) == (
            body.released_on,
            body.document_id,
        ):
            return record
        raise CollateralAlreadyReleased()
    _audit(session, dealer, released, "collateral.released", CollateralStatus.release_issued)
    await events.released(session, released)
    return released


# -- the daily jobs ------------------------------------------------------------------------------


async def flag_overdue(session: AsyncSession, *, as_of: date, now: datetime) -> int:
    """Flag the registrations still owed after their due date (as of ``as_of``) and tell each
    loan's lender and dealer, once per record however often or concurrently this runs."""
    flagged = await repository.flag_overdue(session, as_of=as_of, now=now)
    for record in flagged:
        _audit(session, audit.SYSTEM_ACTOR, record, "collateral.overdue", record.status)
        await events.overdue(session, record)
    return len(flagged)


# -- the lender's reads --------------------------------------------------------------------------


async def lender_collateral(
    session: AsyncSession, lender: Principal, loan_id: uuid.UUID
) -> LoanCollateral:
    """The collateral of one of the lender's loans; another lender's loan is 404."""
    record = await repository.lender_record(session, loan_id, lender_id=lender.org_id)
    if record is not None:
        return record
    if await loan_repository.lender_loan(session, loan_id, lender_id=lender.org_id) is None:
        raise LoanNotFound()
    raise CollateralNotFound()


async def buyer_collateral(
    session: AsyncSession, buyer: Principal, loan_id: uuid.UUID
) -> LoanCollateral:
    """The collateral of the buyer's own loan (the car is theirs: they need the release
    instructions at payoff); anyone else's loan is 404."""
    record = await repository.buyer_record(session, loan_id, buyer_id=buyer.uid)
    if record is not None:
        return record
    if await loan_repository.buyer_loan(session, loan_id, buyer_id=buyer.uid) is None:
        raise LoanNotFound()
    raise CollateralNotFound()


async def lender_page(
    session: AsyncSession,
    lender: Principal,
    *,
    status: CollateralStatus | None,
    overdue: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[LoanCollateral], int]:
    return await repository.lender_page(
        session,
        lender_id=lender.org_id,
        status=status,
        overdue=overdue,
        limit=limit,
        offset=offset,
    )
