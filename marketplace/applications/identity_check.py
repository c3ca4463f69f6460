"""Is the applicant the ID's holder? Name, national ID and phone checked together (三要素).

A real provider (a carrier or the ID authority's real-name service) is an adapter implementing
``IdentityVerifier``. The deterministic sandbox passes every valid ID except those whose
sequence digits (the 15th to 17th characters) are ``999``.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

SANDBOX_MISMATCH_SEQUENCE = "999"


class IdentityVerifier(Protocol):
    name: str

    async def verify(self, *, full_name: str, national_id: str, phone: str) -> bool:
        """True when the three belong to one person."""


class SandboxIdentityVerifier:
    name = "sandbox"

    async def verify(self, *, full_name: str, national_id: str, phone: str) -> bool:
        return national_id[14:17] != SANDBOX_MISMATCH_SEQUENCE


def get_identity_verifier(request: Request) -> IdentityVerifier:
    """The app's verifier (tests may install their own); the sandbox otherwise."""
    verifier: IdentityVerifier | None = getattr(request.app.state, "identity_verifier", None)
    if verifier is None:
        verifier = request.app.state.identity_verifier = SandboxIdentityVerifier()
    return verifier


IdentityVerifierDep = Annotated[IdentityVerifier, Depends(get_identity_verifier)]
