"""Paying a dealer: a Stripe Transfer to its connected account, behind one small interface.

``TransferGateway`` is what the funding flow calls. ``PaymentGateway`` (Stripe, through the
official SDK) is the real one. The local Stripe emulator has no Transfers, so against it —
tests, ``autofin demo``, a developer's machine — ``SandboxTransfers`` stands in: it answers the
same idempotency key with the same transfer, as Stripe does, and moves no money.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Annotated, Protocol

from fastapi import Depends, Request

from shared.payments.gateway import PaymentGateway, Transfer, require_positive_fen


class TransferGateway(Protocol):
    async def create_transfer(
        self,
        *,
        amount: int,
        destination: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: Mapping[str, str],
    ) -> Transfer:
        """Send ``amount`` fen to ``destination`` once per ``idempotency_key``."""
        ...


class SandboxTransfers:
    """Transfers that move no money: the same key always gets the same ``tr_sandbox_…``."""

    async def create_transfer(
        self,
        *,
        amount: int,
        destination: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: Mapping[str, str],
    ) -> Transfer:
        require_positive_fen(amount)
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return Transfer(id=f"tr_sandbox_{digest}", amount=amount, destination=destination)


def transfer_gateway_for(payments: PaymentGateway) -> TransferGateway:
    """Stripe's Transfers, or the sandbox when ``payments`` is the local emulator."""
    return SandboxTransfers() if payments.emulated else payments


def get_transfer_gateway(request: Request) -> TransferGateway:
    gateway: TransferGateway = request.app.state.transfer_gateway
    return gateway


TransferGatewayDep = Annotated[TransferGateway, Depends(get_transfer_gateway)]
