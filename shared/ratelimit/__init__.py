"""Attempt limits kept in PostgreSQL, so every API process sees the same counts.

Each key (an account, organisation, national-ID hash or approval code — never a client address
alone: a dealer's walk-in customers share one) has one counter row. Counting an attempt is one
atomic statement, ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: it starts a window at the
first attempt, adds one within it and returns the count, so racing attempts each see a
different count and no two slip under a limit together. Nothing takes turns beyond that
statement's row lock, held until the counting transaction commits. Counts committed on their
own are committed lazily (``shared.db.commit_lazily``): a database crash may forget the last
moment's attempts, which costs a throttle nothing that matters.

- ``consume``: every attempt counts (applications: each may cost a bureau pull);
- ``reserve`` / ``reserve_all``: a strict limit on failures (one account's password, a walk-in
  claim code): the attempt counts as a failure before it is compared, committed at once, and
  is taken back on success;
- ``take_turn``: the same strict limit inside the request's transaction with no commit on the
  way (a dealer's look-up of an approval code), which may also watch keys whose failures are
  only read, so successful attempts never wait for each other (a busy dealer's look-ups).
"""

from __future__ import annotations

from shared.ratelimit.models import RateLimitCounter
from shared.ratelimit.service import (
    Reservation,
    Turn,
    consume,
    purge_expired,
    reserve,
    reserve_all,
    take_turn,
)

__all__ = [
    "RateLimitCounter",
    "Reservation",
    "Turn",
    "consume",
    "purge_expired",
    "reserve",
    "reserve_all",
    "take_turn",
]
