"""The daily jobs, run by ``autofin jobs run``; each is safe to run twice or concurrently."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession


async def run_daily_jobs(
    session: AsyncSession, *, as_of: date, progress: Callable[[str], None]
) -> None:
    progress(f"Daily jobs as of {as_of.isoformat()}: nothing scheduled yet")
