"""Ranking offers by what the buyer pays: total cost of credit, then monthly payment, then
lender name, then product id. Nothing the platform earns (``commission_rate``) or any other
field that does not change the buyer's cost is read here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pricing.offers import Offer
from shared.money import format_cny


def ranking_key(offer: Offer) -> tuple[int, int, str, str]:
    """Return what offers are ordered by: the buyer's total cost of credit, then monthly
    payment, then lender name and product id so that equal offers keep a stable order."""
    return (offer.total_cost, offer.monthly_payment, offer.lender_name, offer.product_id)


def rank_offers(offers: Sequence[Offer]) -> tuple[Offer, ...]:
    """Return the offers in ranking order, each with its rank and the reason for it."""
    ordered = sorted(offers, key=ranking_key)
    ranked: list[Offer] = []
    for position, offer in enumerate(ordered, start=1):
        above = ordered[position - 2] if position > 1 else None
        reason = _rank_reason(offer, position, len(ordered), above)
        ranked.append(replace(offer, rank=position, rank_reason=reason))
    return tuple(ranked)


def _rank_reason(offer: Offer, position: int, count: int, above: Offer | None) -> str:
    prefix = f"ranked {position} of {count}"
    cost = format_cny(offer.total_cost)
    if above is None:
        return f"{prefix}: lowest total cost of credit ({cost})"
    if offer.total_cost > above.total_cost:
        extra = format_cny(offer.total_cost - above.total_cost)
        return f"{prefix}: total cost of credit {cost}, {extra} more than #{position - 1}"
    if offer.monthly_payment > above.monthly_payment:
        extra = format_cny(offer.monthly_payment - above.monthly_payment)
        return f"{prefix}: same total cost as #{position - 1}, monthly payment {extra} higher"
    return f"{prefix}: same total cost and monthly payment as #{position - 1}; ordered by lender"
