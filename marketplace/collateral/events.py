"""The webhook events about a loan's collateral, written with the change, to the loan's lender
and the dealer that sold the car. Ids, dates and states only (no VIN, no names)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.collateral.models import LoanCollateral
from shared.webhooks import outbox
from shared.webhooks.models import EventType


def _data(record: LoanCollateral) -> dict[str, object]:
    return {
        "loan_id": record.loan_id,
        "lender_id": record.lender_id,
        "dealer_id": record.dealer_id,
        "status": record.status,
        "funded_on": record.funded_on,
        "due_on": record.due_on,
    }


async def _emit(
    session: AsyncSession, record: LoanCollateral, type: EventType, **extra: object
) -> None:
    data = _data(record) | extra
    await outbox.emit(session, [record.lender_id, record.dealer_id], type, data)


async def registered(session: AsyncSession, record: LoanCollateral) -> None:
    await _emit(
        session,
        record,
        EventType.loan_collateral_registered,
        registered_on=record.registered_on,
        late=record.registered_on is not None and record.registered_on > record.due_on,
    )


async def overdue(session: AsyncSession, record: LoanCollateral) -> None:
    await _emit(session, record, EventType.loan_collateral_overdue, overdue_at=record.overdue_at)


async def release_issued(session: AsyncSession, record: LoanCollateral) -> None:
    await _emit(
        session,
        record,
        EventType.loan_collateral_release_issued,
        release_issued_at=record.release_issued_at,
    )


async def released(session: AsyncSession, record: LoanCollateral) -> None:
    await _emit(session, record, EventType.loan_collateral_released, released_on=record.released_on)
