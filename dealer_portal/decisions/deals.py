"""The deals of the decision flow as each party may see them: the look-ups every step starts
from (a deal of anyone else is 404, exactly as one that does not exist), the lender's queue and
the buyer's list."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal.decisions import repository, views
from dealer_portal.decisions.models import DecisionStatus
from dealer_portal.decisions.schemas import DecisionDeal
from dealer_portal.exceptions import DealNotFound
from dealer_portal.models import DealerDeal
from marketplace.servicing.exceptions import LoanNotFound
from pricing import RiskPolicy
from shared.db import utcnow
from shared.identity.principal import Principal


async def lender_row(
    session: AsyncSession, lender: Principal, deal_id: uuid.UUID, *, for_update: bool = False
) -> DealerDeal:
    deal = await repository.deal_for_lender(
        session, deal_id, lender_id=lender.org_id, for_update=for_update
    )
    if deal is None:
        raise DealNotFound()
    return deal


async def visible_deal(
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


async def buyer_loan_deal(
    session: AsyncSession, buyer: Principal, loan_id: uuid.UUID, *, for_update: bool = False
) -> DealerDeal:
    deal = await repository.deal_of_loan_for_buyer(
        session, loan_id, buyer_id=buyer.uid, for_update=for_update
    )
    if deal is None:
        raise LoanNotFound()
    return deal


async def lender_view(
    session: AsyncSession, deal: DealerDeal, policy: RiskPolicy, *, documents: bool = True
) -> DecisionDeal:
    return (
        await views.decision_deals(session, [deal], utcnow(), policy, with_documents=documents)
    )[0]


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
    return await lender_view(session, await lender_row(session, lender, deal_id), policy)


async def buyer_deals(
    session: AsyncSession, buyer: Principal, policy: RiskPolicy, *, limit: int, offset: int
) -> tuple[list[DecisionDeal], int]:
    rows, total = await repository.list_for_buyer(session, buyer.uid, limit=limit, offset=offset)
    manual = [row for row in rows if row.decision_status is not None]
    return await views.decision_deals(session, manual, utcnow(), policy), total
