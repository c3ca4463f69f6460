"""Risk monitoring on a constructed book with known defaults by grade: realised against
predicted default, loans too young left out, the score PSI, and the lender's portfolio view."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.monitoring import service as monitoring_service
from marketplace.policy import current_policy
from marketplace.scorecards import service as scorecard_service
from tests.factories import Headers
from tests.servicing.conftest import BookLoan

A_YEAR = timedelta(days=400)  # booked this long before, a loan has a full 12-month window


@pytest.fixture
def as_of() -> date:
    """Today, read as the test runs: the applications it decides are dated by the clock, and a
    date read at import left them out of the month's report when a run crossed midnight."""
    return date.today()


async def shape(
    session: AsyncSession,
    loan_id: uuid.UUID,
    *,
    as_of: date,
    grade: str,
    pd: str,
    charged_off_after_days: int | None = None,
    unpaid_instalment: int | None = None,
    paid_late_days: tuple[int, int] | None = None,
) -> None:
    """Give a booked loan its grade and PD and a repayment history: every instalment due by
    ``as_of`` paid on its due date, except as told."""
    values = {"id": loan_id, "grade": grade, "pd": Decimal(pd), "as_of": as_of}
    await session.execute(
        text("UPDATE loans SET grade = :grade, pd = :pd, status = 'active' WHERE id = :id"),
        values,
    )
    await session.execute(
        text(
            "UPDATE loan_installments SET status = 'paid', paid_at = due_date "
            "WHERE loan_id = :id AND due_date <= :as_of"
        ),
        {"id": loan_id, "as_of": as_of},
    )
    if unpaid_instalment is not None:
        await session.execute(
            text(
                "UPDATE loan_installments SET status = 'late', paid_at = NULL "
                "WHERE loan_id = :id AND n >= :n"
            ),
            {"id": loan_id, "n": unpaid_instalment},
        )
    if paid_late_days is not None:
        n, days = paid_late_days
        await session.execute(
            text(
                "UPDATE loan_installments SET paid_at = due_date + make_interval(days => :days) "
                "WHERE loan_id = :id AND n = :n"
            ),
            {"id": loan_id, "n": n, "days": days},
        )
    if charged_off_after_days is not None:
        await session.execute(
            text(
                "UPDATE loans SET status = 'charged_off', "
                "closed_at = loan_date + make_interval(days => :days) WHERE id = :id"
            ),
            {"id": loan_id, "days": charged_off_after_days},
        )
    await session.commit()


async def test_monitoring_a_constructed_book_gives_the_known_figures(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    book_loan: BookLoan,
    as_of: date,
) -> None:
    # Grade A: four loans a year on book, one charged off after 200 days → 25 %.
    a_loans = [await book_loan(loan_date=as_of - A_YEAR) for _ in range(4)]
    await shape(
        session, a_loans[0].loan_id, as_of=as_of, grade="A2", pd="0.006", charged_off_after_days=200
    )
    for booked in a_loans[1:]:
        await shape(session, booked.loan_id, as_of=as_of, grade="A2", pd="0.006")
    # Grade C: three loans; one never paid from its third instalment (90+ days past due), one
    # paid an instalment 60 days late (not bad), one charged off only after 13 months (not bad
    # within 12 months) → 1 in 3.
    c_loans = [await book_loan(loan_date=as_of - A_YEAR) for _ in range(3)]
    await shape(
        session, c_loans[0].loan_id, as_of=as_of, grade="C3", pd="0.05", unpaid_instalment=3
    )
    await shape(
        session, c_loans[1].loan_id, as_of=as_of, grade="C3", pd="0.05", paid_late_days=(2, 60)
    )
    await shape(
        session, c_loans[2].loan_id, as_of=as_of, grade="C1", pd="0.035", charged_off_after_days=395
    )
    # Too young to judge: booked 100 days ago and already 90+ days late; left out.
    young = await book_loan(loan_date=as_of - timedelta(days=100))
    await shape(session, young.loan_id, as_of=as_of, grade="C3", pd="0.05", unpaid_instalment=1)

    champion = (await scorecard_service.active_models(session)).champion
    report = await monitoring_service.run(
        session, as_of=as_of, policy=current_policy(), champion=champion
    )
    await session.commit()

    assert (report.loans_booked, report.loans_observed) == (8, 7)
    by_grade = {row.grade: row for row in report.grades}
    assert set(by_grade) == {"A", "C"}
    assert (by_grade["A"].loans, by_grade["A"].bad) == (4, 1)
    assert by_grade["A"].realised_default_rate == Decimal("0.2500")
    assert by_grade["A"].predicted_default_rate == Decimal("0.0060")
    assert (by_grade["C"].loans, by_grade["C"].bad) == (3, 1)
    assert by_grade["C"].realised_default_rate == Decimal("0.3333")
    assert by_grade["C"].predicted_default_rate == Decimal("0.0450")  # (5 + 5 + 3.5) % ÷ 3
    assert report.total is not None and report.total.realised_default_rate == Decimal("0.2857")

    shown = await client.get("/v1/admin/risk/monitor", headers=admin)
    assert shown.status_code == 200, shown.text
    assert shown.json()["loans_observed"] == 7
    assert shown.json()["grades"][1]["realised_default_rate"] == "0.3333"
    # This month's applications (the booking above applied eight times) have a PSI.
    assert report.applications_scored >= 8 and report.psi is not None


async def test_the_lender_sees_predicted_beside_realised_default_by_grade(
    client: httpx.AsyncClient, session: AsyncSession, book_loan: BookLoan, as_of: date
) -> None:
    booked = await book_loan(loan_date=as_of - A_YEAR)
    await shape(
        session, booked.loan_id, as_of=as_of, grade="B1", pd="0.017", charged_off_after_days=150
    )

    portfolio = (await client.get("/v1/lender/portfolio", headers=booked.lender)).json()
    (row,) = portfolio["grades"]
    assert row["grade"] == "B1" and row["loans_a_year_on_book"] == 1
    assert row["predicted_default_rate"] == "0.0170" and row["realised_default_rate"] == "1.0000"


async def test_no_report_yet_is_not_found(client: httpx.AsyncClient, admin: Headers) -> None:
    response = await client.get("/v1/admin/risk/monitor", headers=admin)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_monitoring_report"


async def test_the_admin_sees_the_policy_and_its_ladder(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    policy = (await client.get("/v1/admin/risk/policy", headers=admin)).json()
    assert (policy["lgd_new"], policy["lgd_used"]) == ("0.40", "0.55")
    ladder = policy["ladder"]
    assert [rung["grade"] for rung in ladder][:2] == ["A1", "A2"] and len(ladder) == 35
    assert all(Decimal(r["max_fair_rate_used"]) <= Decimal("0.24") for r in ladder)
