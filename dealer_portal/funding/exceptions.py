"""Why funding is refused."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.errors import Conflict


class FundingGatesOpen(Conflict):
    """Something the lender's product requires before funding is missing; ``error.gates``
    names each open gate (``decision``, ``contract_signed``, ``stipulations``,
    ``down_payment``, ``insurance``)."""

    code = "funding_gates_open"
    message = "The loan cannot be funded yet: {gates}."

    def __init__(self, gates: Sequence[str]) -> None:
        super().__init__(params={"gates": ", ".join(gates)})
        self.gates = list(gates)

    def body(self, locale: str | None = None) -> dict[str, Any]:
        body = super().body(locale)
        body["error"]["gates"] = self.gates
        return body


class VinAlreadyFinanced(Conflict):
    code = "vin_already_financed"
    message = "This car (VIN) already backs a loan that is not repaid."
