"""The lender's counter-offer: its figures (within the limits it may not break), and the
buyer's answer — accepted (the loan booked again on its terms) or declined (the deal
cancelled as ``/cancel`` does)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import handover
from dealer_portal.decisions import repository, views
from dealer_portal.decisions.deals import visible_deal
from dealer_portal.decisions.exceptions import CounterOfferRefused, NoCounterOffer
from dealer_portal.decisions.models import DecisionStatus
from dealer_portal.decisions.schemas import CounterTerms
from dealer_portal.models import DealerDeal
from marketplace.servicing import service as servicing_service
from pricing import PricingInputError, RiskPolicy, assess_rate, quote_loan
from shared import audit
from shared.db import utcnow
from shared.idempotency import StoredResponse, request_fingerprint
from shared.identity.principal import Principal
from shared.observability import event
from shared.payments.gateway import PaymentGateway


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
    deal = await visible_deal(session, buyer, deal_id)
    if deal.decision_status != DecisionStatus.countered.value:
        raise NoCounterOffer()

    async def view(session: AsyncSession) -> StoredResponse:
        found = await visible_deal(session, buyer, deal_id)
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
        declined = await repository.decline_counter_offer(
            session,
            deal_id,
            buyer_id=buyer.uid,
            counter_offer=(deal.counter_offer or {}) | {"answer": "declined"},
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
    accepted = await repository.accept_counter_offer(session, deal_id, buyer_id=buyer.uid, now=now)
    if accepted is None:
        raise NoCounterOffer()
    terms = accepted.counter_offer or {}
    old_loan_id = accepted.loan_id
    assert old_loan_id is not None
    await servicing_service.cancel_before_handover(session, buyer, old_loan_id)
    amount, term = int(terms["amount"]), int(terms["term_months"])
    rate = Decimal(str(terms["annual_rate"]))
    loan = await handover.book_deal_loan(
        session,
        buyer,
        accepted,
        principal=amount,
        annual_rate=rate,
        term_months=term,
        auto_fund=False,
        loan_date=now.date(),
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
        "schedule": [row.as_dict() for row in quote.schedule],
    }
    rebooked = await repository.replace_loan(
        session,
        deal_id,
        old_loan_id=old_loan_id,
        loan_id=loan.id,
        loan_terms={
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
