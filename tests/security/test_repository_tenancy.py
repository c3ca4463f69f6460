"""Below the routes: each repository function that takes a tenant returns or changes only that
tenant's rows, whatever id it is handed.

The route matrix (``test_tenancy_matrix.py``) proves no caller reaches another tenant's objects
through the API; a service often checks the parent first, so it cannot tell whether the
repository's own filter holds. Here side A's tenant is handed side B's ids (from the same
``world``) straight to the repository: nothing comes back and nothing changes, while B's own
tenant gets B's rows (the positive control that the ids are right).
"""

from __future__ import annotations

import uuid
from datetime import date

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from marketplace.applications import repository as applications
from marketplace.collateral import repository as collateral
from marketplace.collateral.models import CollateralStatus
from marketplace.collections import repository as collections
from marketplace.collections.models import (
    GuaranteeEntry,
    GuaranteeEntryType,
    Mandate,
    Notice,
    NoticeKind,
)
from marketplace.monitoring import repository as monitoring
from marketplace.preapprovals import repository as preapprovals
from marketplace.servicing.models import Bucket, Loan
from tests.security.world import Side, build_world


def _id(side: Side, kind: str) -> uuid.UUID:
    return uuid.UUID(side.ids[kind])


async def _collections_rows(session: AsyncSession, side: Side) -> None:
    """A live mandate, a reminder and a guarantee provision on the side's loan, which is made
    platform-guaranteed and past due (so it is in both its lender's and its advisor's queue)."""
    loan_id, buyer_id = _id(side, "loan_id"), _id(side, "buyer_id")
    await session.execute(
        update(Loan)
        .where(col(Loan.id) == loan_id)
        .values(platform_guarantee=True, days_past_due=5, bucket=Bucket.dpd_1_30.value)
    )
    session.add(
        Mandate(
            loan_id=loan_id,
            buyer_id=buyer_id,
            collector="stripe",
            customer_ref="cus_test",
            payment_method_ref="pm_test",
            text_version="v1",
            agreed_text="授权",
            locale="zh-CN",
        )
    )
    session.add(
        Notice(
            notice_key=f"test-{loan_id}",
            loan_id=loan_id,
            buyer_id=buyer_id,
            kind=NoticeKind.upcoming,
            locale="zh-CN",
            body="提醒",
        )
    )
    session.add(
        GuaranteeEntry(
            entry_key=f"test-provision-{loan_id}",
            entry_type=GuaranteeEntryType.provision,
            loan_id=loan_id,
            lender_id=_id(side, "lender_id"),
            amount=12_345,
            effective_date=date.today(),
        )
    )
    await session.flush()


async def test_no_repository_read_or_change_crosses_tenants(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(client, session)
    a, b = world.sides["a"], world.sides["b"]
    for side in (a, b):
        await _collections_rows(session, side)
    buyer_a, lender_a, dealer_a = _id(a, "buyer_id"), _id(a, "lender_id"), _id(a, "dealer_id")
    buyer_b, lender_b, dealer_b = _id(b, "buyer_id"), _id(b, "lender_id"), _id(b, "dealer_id")
    loan_b = _id(b, "loan_id")

    # Applications and pre-approvals: the buyer's own only.
    application_b = _id(b, "application_id")
    assert await applications.get(session, application_b, buyer_id=buyer_a) is None
    assert await applications.get(session, application_b, buyer_id=buyer_b) is not None
    preapproval_b = _id(b, "preapproval_id")
    assert await preapprovals.get(session, preapproval_b, buyer_id=buyer_a) is None
    assert await preapprovals.get(session, preapproval_b, buyer_id=buyer_b) is not None

    # Collateral: read by the buyer, changed by the dealer, each its own loan's only.
    assert await collateral.buyer_record(session, loan_b, buyer_id=buyer_a) is None
    assert await collateral.buyer_record(session, loan_b, buyer_id=buyer_b) is not None
    step = {"expected": CollateralStatus.awaiting, "new": CollateralStatus.not_required}
    assert await collateral.dealer_transition(session, loan_b, dealer_id=dealer_a, **step) is None
    record = await collateral.of_loan_for_platform(session, loan_b)
    assert record is not None and record.status == CollateralStatus.awaiting
    changed = await collateral.dealer_transition(session, loan_b, dealer_id=dealer_b, **step)
    assert changed is not None and changed.status == CollateralStatus.not_required

    # Monitoring: a lender's figures count its own loans only (each side booked one).
    def booked(rows: list[monitoring.GradePerformance]) -> int:
        return sum(row.booked for row in rows)

    as_of = date.today()
    own = await monitoring.lender_performance_by_grade(session, as_of=as_of, lender_id=lender_a)
    every = await monitoring.performance_by_grade_for_platform(session, as_of=as_of)
    assert booked(own) == 1 and booked(every) >= 2

    # Collections: mandates and reminders are the buyer's; the reserve and queue the lender's;
    # the advisor's queue their own buyers' guaranteed loans.
    assert await collections.active_mandate(session, loan_b, buyer_id=buyer_a) is None
    assert await collections.active_mandate(session, loan_b, buyer_id=buyer_b) is not None
    assert await collections.loan_notices(session, loan_b, buyer_id=buyer_a) == []
    assert len(await collections.loan_notices(session, loan_b, buyer_id=buyer_b)) == 1
    reserve = await collections.lender_reserve_figures(session, lender_id=lender_a)
    assert reserve.provisioned == 12_345
    for scope_a, scope_b in (
        (collections.LenderQueue(lender_a), collections.LenderQueue(lender_b)),
        (
            collections.AdvisorQueue(await _advisor_id(client, a)),
            collections.AdvisorQueue(await _advisor_id(client, b)),
        ),
    ):
        assert await collections.queue_loan(session, loan_b, scope=scope_a) is None
        assert await collections.queue_loan(session, loan_b, scope=scope_b) is not None
        rows, total = await collections.queue_page(
            session, scope=scope_a, bucket=None, limit=50, offset=0
        )
        assert total == 1 and [loan.id for loan, _, _ in rows] == [_id(a, "loan_id")]
        assert await collections.queue_buckets(session, scope=scope_a) == {
            Bucket.dpd_1_30.value: (1, await _balance(session, _id(a, "loan_id")))
        }


async def _advisor_id(client: httpx.AsyncClient, side: Side) -> uuid.UUID:
    me = await client.get("/v1/auth/me", headers=side.callers["advisor"])
    assert me.status_code == 200, me.text
    return uuid.UUID(me.json()["user_id"])


async def _balance(session: AsyncSession, loan_id: uuid.UUID) -> int:
    return (await collections.ledger_balances(session, [loan_id])).get(loan_id, 0)
