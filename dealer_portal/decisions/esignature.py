"""How a buyer's signature is verified: an ``ESignature`` provider.

``OneTimeCodeSignature`` (the sandbox, and the default) proves the signer holds the account's
verified phone with a one-time SMS code of purpose ``sign`` (``shared.identity.codes``: valid
five minutes, once, guesses throttled). A CA-backed e-signature provider (a licensed 电子认证服务
under China's Electronic Signature Law, e.g. one issuing a per-signature certificate over the
PDF's digest) is the production adapter to add behind the same ``verify``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from shared import ratelimit
from shared.identity import codes
from shared.identity.models import SmsPurpose


@dataclass(frozen=True)
class SignatureEvidence:
    provider: str
    verification: str  # what was checked, for the signature record
    reservation: ratelimit.Reservation | None  # released once the signature is stored


class ESignature(Protocol):
    name: str

    async def verify(
        self, session: AsyncSession, *, phone: str, code: str, sha256: str, now: datetime
    ) -> SignatureEvidence:
        """Check that the holder of ``phone`` signs the document ``sha256`` (raises a 4xx
        DomainError otherwise). May commit the session (a code's guess is counted first)."""
        ...


class OneTimeCodeSignature:
    name = "sms_one_time_code"

    async def verify(
        self, session: AsyncSession, *, phone: str, code: str, sha256: str, now: datetime
    ) -> SignatureEvidence:
        reservation = await codes.redeem(
            session, phone=phone, purpose=SmsPurpose.sign, code=code, now=now
        )
        return SignatureEvidence(
            provider=self.name,
            verification=f"sms code (purpose sign) redeemed at {now.isoformat()}",
            reservation=reservation,
        )


def e_signature() -> ESignature:
    return OneTimeCodeSignature()


ESignatureDep = Annotated[ESignature, Depends(e_signature)]
