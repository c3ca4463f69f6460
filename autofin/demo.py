"""Demo data for ``autofin demo``: organisations and logins a newcomer can try every flow with."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession


async def load_demo(session: AsyncSession, *, progress: Callable[[str], None]) -> None:
    progress("Demo data: nothing yet")
