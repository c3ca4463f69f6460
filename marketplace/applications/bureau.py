"""The credit bureau: one interface, a deterministic sandbox behind it.

The real PBoC / Baihang connection is an adapter implementing ``CreditBureau``; the sandbox
answers every national ID with realistic, reproducible facts (so demos and tests repeat), and
slows down or fails only when configured to.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from marketplace.applications.national_id import with_check_character
from pricing import BureauFacts
from shared.settings import Settings, get_settings

BUREAU_TIMEOUT_SECONDS = 5.0


class BureauUnavailable(Exception):
    """The bureau timed out or failed; the application waits in ``pending_bureau``."""


class CreditBureau(Protocol):
    name: str

    async def pull(self, national_id: str) -> BureauFacts:
        """The person's bureau facts, or BureauUnavailable."""
        ...


class SandboxBureau:
    """Deterministic facts derived from the ID number; latency and failures on request."""

    name = "sandbox"

    def __init__(self, *, latency_ms: int = 0, failure_rate: float = 0.0) -> None:
        self.latency_ms = latency_ms
        self.failure_rate = failure_rate

    @classmethod
    def from_settings(cls, settings: Settings) -> SandboxBureau:
        return cls(latency_ms=settings.bureau_latency_ms, failure_rate=settings.bureau_failure_rate)

    async def pull(self, national_id: str) -> BureauFacts:
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        if self.failure_rate and random.random() < self.failure_rate:  # noqa: S311 (simulation)
            raise BureauUnavailable("sandbox bureau failure (configured)")
        return sandbox_facts(national_id)


def sandbox_facts(national_id: str) -> BureauFacts:
    """Realistic facts for a person, the same every time for the same ID.

    Shares roughly follow published PBoC credit-report statistics: most borrowers are clean,
    about one in six has a recent delinquency, one in five has no revolving credit.
    """
    rng = random.Random(hashlib.sha256(national_id.encode()).digest())  # noqa: S311
    roll = rng.random()
    if roll < 0.80:
        delinquencies, worst_dpd = 0, 0
    elif roll < 0.93:
        delinquencies, worst_dpd = 1, rng.choice((5, 15, 29))
    elif roll < 0.985:
        delinquencies, worst_dpd = rng.randint(2, 4), rng.choice((30, 45, 60, 90))
    else:
        delinquencies, worst_dpd = rng.randint(3, 8), 120
    utilisation = None if rng.random() < 0.2 else Decimal(rng.randint(0, 110)) / 100
    return BureauFacts(
        delinquencies_24m=delinquencies,
        worst_dpd=worst_dpd,
        inquiries_6m=min(int(rng.expovariate(0.6)), 12),
        revolving_utilisation=utilisation,
        credit_history_months=rng.choice((0, 6, 18, 36, 60, 96, 144)),
        has_write_off=rng.random() < 0.012,
    )


async def pull_with_timeout(bureau: CreditBureau, national_id: str) -> BureauFacts:
    """Pull, turning a timeout or any bureau error into BureauUnavailable."""
    try:
        return await asyncio.wait_for(bureau.pull(national_id), BUREAU_TIMEOUT_SECONDS)
    except BureauUnavailable:
        raise
    except Exception as error:  # a bureau adapter's transport errors all mean "try later"
        raise BureauUnavailable(type(error).__name__) from error


def facts_to_json(facts: BureauFacts) -> dict[str, Any]:
    utilisation = facts.revolving_utilisation
    return {
        "delinquencies_24m": facts.delinquencies_24m,
        "worst_dpd": facts.worst_dpd,
        "inquiries_6m": facts.inquiries_6m,
        "revolving_utilisation": None if utilisation is None else str(utilisation),
        "credit_history_months": facts.credit_history_months,
        "has_write_off": facts.has_write_off,
    }


def facts_from_json(stored: dict[str, Any]) -> BureauFacts:
    utilisation = stored.get("revolving_utilisation")
    return BureauFacts(
        delinquencies_24m=int(stored["delinquencies_24m"]),
        worst_dpd=int(stored["worst_dpd"]),
        inquiries_6m=int(stored["inquiries_6m"]),
        revolving_utilisation=None if utilisation is None else Decimal(utilisation),
        credit_history_months=int(stored["credit_history_months"]),
        has_write_off=bool(stored["has_write_off"]),
    )


def get_bureau(request: Request) -> CreditBureau:
    """The app's bureau (tests install their own); the sandbox configured by settings otherwise."""
    bureau: CreditBureau | None = getattr(request.app.state, "bureau", None)
    if bureau is None:
        bureau = request.app.state.bureau = SandboxBureau.from_settings(get_settings())
    return bureau


BureauDep = Annotated[CreditBureau, Depends(get_bureau)]


def sandbox_clean_national_id(region: str, born: date, *, exclude: Collection[str] = ()) -> str:
    """A valid ID (region code, birth date) whose sandbox file is clean and seasoned (3+ years,
    no delinquency or write-off), for demos and tests whose approval must not depend on chance."""
    for serial in range(999):  # 999 is the sandbox identity check's failure trigger
        number = with_check_character(f"{region}{born:%Y%m%d}{serial:03d}")
        facts = sandbox_facts(number)
        clean = facts.delinquencies_24m == 0 and not facts.has_write_off
        if clean and facts.credit_history_months >= 36 and number not in exclude:
            return number
    raise LookupError("no clean sandbox ID left for that region and birth date")
