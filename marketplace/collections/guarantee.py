"""The platform guarantee paying out (担保兜底, pillar P4): claims, the reserve, exposure.

- **Reserve.** When a guaranteed loan is funded the platform sets aside ``RESERVE_RATIO`` of its
  principal (a ``provision`` entry, once per loan, by the daily job). The reserve is the sum of the
  append-only ``guarantee_ledger``: provisions, less claims paid, plus recoveries; it may run
  negative (a shortfall the platform covers from its own funds), and says so.
- **Claim.** When a guaranteed loan is charged off, the platform pays the lender what it
  guaranteed — the principal and the interest owed; late fees are the lender's to write off — in
  the charge-off's own transaction (``pay_claim`` is delinquency's charge-off hook): one
  ``guarantee_claims`` row (unique per loan), a ``guarantee_claim`` entry on the loan's ledger
  (the lender's side: the balance settled) and an equal ``claim`` entry on the platform's, so the
  two agree to the fen. The charge-off then writes off the rest.
- **Recoveries.** From then on the platform holds the claim on the buyer: whatever is recovered
  on the loan (``crediting``) is mirrored into the reserve by the daily job, once per payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.collections import repository
from marketplace.collections.models import GuaranteeClaim, GuaranteeEntry, GuaranteeEntryType
from marketplace.servicing import amounts, ledger
from marketplace.servicing import repository as servicing_repository
from marketplace.servicing.models import InstallmentStatus, LedgerEntryType, Loan
from shared import audit
from shared.identity.principal import Principal
from shared.observability import event
from shared.writes import insert_unique

RESERVE_RATIO = Decimal("0.05")


async def pay_claim(session: AsyncSession, loan: Loan, as_of: date) -> int:
    """Pay the lender what the guarantee covers on a loan being charged off (the caller holds
    it locked); what was paid — nothing if it is not guaranteed or was paid already."""
    if not loan.platform_guarantee:
        return 0
    principal = interest = 0
    for row in await servicing_repository.installments(session, loan.id):
        if row.status == InstallmentStatus.paid:
            continue
        charged = row.interest_charged or 0
        principal += row.principal - amounts.principal_paid(row)
        interest += charged - min(row.paid_amount, charged)
    amount = principal + interest
    if amount <= 0:
        return 0
    claim = GuaranteeClaim(
        loan_id=loan.id,
        lender_id=loan.lender_id,
        amount=amount,
        principal=principal,
        interest=interest,
        paid_on=as_of,
    )
    if not await insert_unique(session, claim):
        return 0
    await servicing_repository.append_ledger_entry(
        session,
        loan_id=loan.id,
        entry_type=LedgerEntryType.guarantee_claim,
        entry_key=ledger.guarantee_claim_key(),
        amount=-amount,
        effective_date=as_of,
    )
    await repository.add_guarantee_entry(
        session,
        GuaranteeEntry(
            entry_key=f"claim:{loan.id}",
            entry_type=GuaranteeEntryType.claim,
            loan_id=loan.id,
            lender_id=loan.lender_id,
            amount=-amount,
            effective_date=as_of,
        ),
    )
    audit.record(
        session,
        actor=audit.SYSTEM_ACTOR,
        action="guarantee.claim_paid",
        subject_type="loan",
        subject_id=loan.id,
        after={"claim_id": str(claim.id), "amount": amount, "lender_id": str(loan.lender_id)},
    )
    event("guarantee.claim_paid", loan_id=str(loan.id), claim_id=str(claim.id), amount=amount)
    return amount


@dataclass
class ReserveRun:
    provisioned: int = 0
    recoveries: int = 0


async def update_reserve(session: AsyncSession, as_of: date) -> ReserveRun:
    """Provision newly funded guaranteed loans and mirror new recoveries (idempotent)."""
    return ReserveRun(
        provisioned=await repository.provision_reserve(session, ratio=RESERVE_RATIO, as_of=as_of),
        recoveries=await repository.mirror_recoveries(session),
    )


@dataclass(frozen=True)
class GuaranteeView:
    guaranteed_loans: int
    guaranteed_outstanding: int
    figures: repository.ReserveFigures


async def platform_view(session: AsyncSession) -> GuaranteeView:
    count, outstanding = await repository.guaranteed_exposure(session)
    return GuaranteeView(count, outstanding, await repository.reserve_figures_for_platform(session))


async def lender_figures(session: AsyncSession, lender: Principal) -> repository.ReserveFigures:
    """Claims paid to the lender and the reserve held against its guaranteed loans."""
    return await repository.lender_reserve_figures(session, lender_id=lender.org_id)


async def claims_page(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[GuaranteeClaim], int]:
    return await repository.recent_claims(session, limit=limit, offset=offset)
