"""The funding gates: what must hold before a lender's money goes to the dealer.

Always: the lender's ``decision`` is ``approved`` and the ``down_payment`` is paid. Then each
gate the product version names (``funding_gates``, by default all three):

- ``contract_signed``: the buyer signed the loan contract;
- ``stipulations``: every stipulation the lender set is satisfied;
- ``insurance``: a policy is recorded, with its document, not expired, naming the lender as
  first beneficiary (第一受益人) — by its registered name or its unified social credit code.

A loan with no deal (booked outside the dealer portal) has every gate open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from dealer_portal.decisions.models import DecisionStatus, Stipulation, StipulationStatus
from dealer_portal.models import DealerDeal, DownPaymentStatus

ORDER = ("decision", "contract_signed", "stipulations", "down_payment", "insurance")
ALWAYS = frozenset({"decision", "down_payment"})


@dataclass(frozen=True)
class Lender:
    name: str
    uscc: str


@dataclass(frozen=True)
class Gate:
    name: str
    satisfied: bool


def _compact(text: str) -> str:
    return "".join(text.split()).upper()


def insurance_covers(insurance: dict[str, Any] | None, lender: Lender, today: date) -> bool:
    """A recorded, unexpired policy with its document that names ``lender`` first beneficiary."""
    if not insurance or not insurance.get("document_id"):
        return False
    if date.fromisoformat(str(insurance["expires_on"])) < today:
        return False
    beneficiary = insurance.get("first_beneficiary")
    if not isinstance(beneficiary, str):
        return False
    return _compact(beneficiary) in {_compact(lender.name), _compact(lender.uscc)}


def gates(
    deal: DealerDeal | None,
    stipulations: Sequence[Stipulation],
    product_gates: Sequence[str],
    lender: Lender,
    today: date,
) -> list[Gate]:
    """Each gate funding waits for, in a fixed order, with whether it holds now."""
    required = [name for name in ORDER if name in ALWAYS or name in product_gates]
    if deal is None:
        return [Gate(name, False) for name in required]
    holds = {
        "decision": deal.decision_status == DecisionStatus.approved.value,
        "contract_signed": deal.contract_signed_at is not None,
        "stipulations": all(s.status == StipulationStatus.satisfied.value for s in stipulations),
        "down_payment": deal.down_payment_status == DownPaymentStatus.paid.value,
        "insurance": insurance_covers(deal.insurance, lender, today),
    }
    return [Gate(name, holds[name]) for name in required]


def open_gates(found: Sequence[Gate]) -> list[str]:
    return [gate.name for gate in found if not gate.satisfied]
