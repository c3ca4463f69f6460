"""The scorecard registry's rules: publish an immutable card, make one the champion (one at a
time, audited), score one in shadow as the challenger, and hand the cards in service to the
decision as values (``ActiveModels``), never through globals.

A card is looked up by version and parsed once per process: versions are immutable, and the
cache is keyed by the card's fingerprint as well, so it can never serve a stale card. With no
champion published, the built-in card decides (development mode needs nothing published).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.scorecards import repository
from marketplace.scorecards.exceptions import (
    ScorecardInvalid,
    ScorecardIsChampion,
    ScorecardNotFound,
    ScorecardRoleConflict,
    ScorecardVersionTaken,
)
from marketplace.scorecards.models import PublishedScorecard, ScorecardRole
from pricing import Scorecard, default_scorecard, parse_scorecard
from pricing.scorecard_file import ScorecardError
from shared import audit
from shared.identity.principal import Principal
from shared.observability import event

_PARSED: dict[str, Scorecard] = {}  # sha256 of the card's JSON → the parsed card


@dataclass(frozen=True, slots=True)
class ActiveModels:
    """The cards in service: the champion decides, the challenger is only recorded."""

    champion: Scorecard
    challenger: Scorecard | None = None


def canonical_json(card: Any) -> str:
    """The card's JSON with sorted keys and no spaces: what its fingerprint is taken of."""
    return json.dumps(card, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def fingerprint(card: Any) -> str:
    return hashlib.sha256(canonical_json(card).encode()).hexdigest()


def parse(card: Any) -> Scorecard:
    """The validated card, or ``ScorecardInvalid`` saying what is wrong."""
    try:
        # Re-read through Decimal so points and PD coefficients keep every digit written.
        return parse_scorecard(json.loads(canonical_json(card), parse_float=Decimal))
    except ScorecardError as error:
        raise ScorecardInvalid(f"The scorecard cannot be used: {error}") from None


async def publish(
    session: AsyncSession, actor: Principal | str, card: dict[str, Any], now: datetime
) -> PublishedScorecard:
    """Store ``card`` as a candidate. Publishing the same card again returns it; another card
    under a version already taken (or the built-in card's) is refused."""
    parsed = parse(card)
    sha = fingerprint(card)
    existing = await repository.get(session, parsed.version)
    if existing is not None:
        if existing.sha256 != sha:
            raise ScorecardVersionTaken(field="version")
        return existing
    if parsed.version == default_scorecard().version and parsed != default_scorecard():
        raise ScorecardVersionTaken(field="version")
    row = PublishedScorecard(
        version=parsed.version,
        card=json.loads(canonical_json(card)),
        sha256=sha,
        published_by=actor if isinstance(actor, str) else actor.actor,
        published_at=now,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # the same version published concurrently
        raise ScorecardVersionTaken(field="version") from None
    _PARSED[sha] = parsed
    audit.record(
        session,
        actor=actor,
        action="scorecard.published",
        subject_type="scorecard",
        subject_id=parsed.version,
        after={"role": ScorecardRole.candidate.value, "sha256": sha},
    )
    event("scorecard.published", version=parsed.version)
    return row


async def activate(
    session: AsyncSession, actor: Principal | str, version: str, now: datetime
) -> PublishedScorecard:
    """Make ``version`` the champion: the card that decides. The previous champion becomes a
    candidate; two admins activating at once leave exactly one champion (the other gets 409)."""
    return await _take_role(session, actor, version, ScorecardRole.champion, now)


async def set_challenger(
    session: AsyncSession, actor: Principal | str, version: str, now: datetime
) -> PublishedScorecard:
    """Make ``version`` the challenger, scored in shadow on every application; never the
    champion at the same time."""
    return await _take_role(session, actor, version, ScorecardRole.challenger, now)


async def clear_challenger(session: AsyncSession, actor: Principal | str, now: datetime) -> None:
    """Stop shadow scoring: the challenger becomes a candidate again."""
    stepped_down = await repository.step_down(
        session, ScorecardRole.challenger, except_version="", now=now
    )
    if stepped_down is not None:
        _audit_role(session, actor, stepped_down, ScorecardRole.challenger, ScorecardRole.candidate)


async def _take_role(
    session: AsyncSession,
    actor: Principal | str,
    version: str,
    role: ScorecardRole,
    now: datetime,
) -> PublishedScorecard:
    card = await repository.lock(session, version)
    if card is None:
        raise ScorecardNotFound(field="version")
    if card.role == role:
        return card
    if role == ScorecardRole.challenger and card.role == ScorecardRole.champion:
        raise ScorecardIsChampion()
    before = ScorecardRole(card.role)
    stepped_down = await repository.step_down(session, role, except_version=version, now=now)
    try:
        async with session.begin_nested():
            changed = await repository.change_role(
                session, version, expected=before, new=role, now=now
            )
    except IntegrityError:
        raise ScorecardRoleConflict() from None
    if not changed:  # cannot happen under the row lock, but never write on a lost race
        raise ScorecardRoleConflict()
    if stepped_down is not None:
        _audit_role(session, actor, stepped_down, role, ScorecardRole.candidate)
    _audit_role(session, actor, version, before, role)
    event(f"scorecard.{role.value}", version=version)
    await session.refresh(card)
    return card


def _audit_role(
    session: AsyncSession,
    actor: Principal | str,
    version: str,
    before: ScorecardRole,
    after: ScorecardRole,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"scorecard.{after.value}",
        subject_type="scorecard",
        subject_id=version,
        before={"role": before.value},
        after={"role": after.value},
    )


async def card(session: AsyncSession, version: str) -> Scorecard:
    """The card published as ``version`` (or the built-in one), parsed once per process."""
    return await card_of(session, version, await repository.fingerprint(session, version))


async def card_of(session: AsyncSession, version: str, sha: str | None) -> Scorecard:
    """``card`` for a caller that read the card's fingerprint (``scorecards.sha256``, None
    when no card is published as ``version``) along with something else."""
    if sha is None:
        builtin = default_scorecard()
        if version == builtin.version:
            return builtin
        raise ScorecardNotFound()
    return await _parsed(session, version, sha)


async def active_models(session: AsyncSession) -> ActiveModels:
    """The champion (the built-in card while none is published) and the challenger, if any."""
    roles = await repository.in_service(session)
    champion = roles.get(ScorecardRole.champion)
    challenger = roles.get(ScorecardRole.challenger)
    return ActiveModels(
        champion=default_scorecard() if champion is None else await _parsed(session, *champion),
        challenger=None if challenger is None else await _parsed(session, *challenger),
    )


async def _parsed(session: AsyncSession, version: str, sha: str) -> Scorecard:
    cached = _PARSED.get(sha)
    if cached is None:
        body = await repository.card_json(session, version)
        if body is None:
            raise ScorecardNotFound()
        cached = _PARSED[sha] = parse(body)
    return cached


async def published_page(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[Sequence[PublishedScorecard], int]:
    """A page of the published cards, newest first, and their number."""
    return await repository.list_page(session, limit=limit, offset=offset)


async def published(session: AsyncSession, version: str) -> PublishedScorecard:
    """The card published as ``version``, as stored."""
    row = await repository.get(session, version)
    if row is None:
        raise ScorecardNotFound()
    return row
