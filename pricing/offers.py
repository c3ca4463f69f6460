"""What matching answers for one product: an offer (quoted, with why it is shown and its rank)
or a rejection (which rule failed, and the figures to say so in any language)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pricing.loan_math import RepaymentMethod


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one product cannot be offered: a stable ``code``, a message for dealer staff, and the
    deal ``field`` to change (None when nothing the buyer controls would help). ``params`` are
    the figures in the message, by name (money as ``*_fen`` ints, rates as Decimals), so the
    message can be written again in another language."""

    code: str
    message: str
    field: str | None
    product_id: str = ""
    params: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True, slots=True)
class Offer:
    """One product quoted for one buyer and deal, with the reasons it is shown and its rank."""

    product_id: str
    product_version: int
    lender_id: str
    lender_name: str
    product_name: str
    grade: str
    method: RepaymentMethod
    amount: int
    term_months: int
    annual_rate: Decimal
    apr: Decimal
    effective_annual_rate: Decimal
    upfront_fee: int
    monthly_payment: int
    total_interest: int
    total_cost: int
    total_repayment: int
    benchmark_rate: Decimal
    subsidised: bool
    platform_guarantee: bool
    why_eligible: tuple[str, ...]
    rank: int = 0
    rank_reason: str = ""


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Ranked offers (cheapest first) and every product that was not offered, with why."""

    offers: tuple[Offer, ...]
    rejections: tuple[Rejection, ...]
