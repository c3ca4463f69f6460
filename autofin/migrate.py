"""Apply and inspect Alembic migrations; the scripts ship inside this package.

Each domain's migrations form their own branch off the foundation (``branch_labels``), with
``depends_on`` where one domain's tables refer to another's, so ``heads`` is the target.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database to ``revision`` (blocking; call it off the event loop)."""
    command.upgrade(alembic_config(database_url), revision)


def head_revisions() -> frozenset[str]:
    """The newest revision of every branch."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


async def current_revisions(connection: AsyncConnection) -> frozenset[str]:
    """The revisions the database is at (one per branch)."""
    heads = await connection.run_sync(
        lambda sync: MigrationContext.configure(sync).get_current_heads()
    )
    return frozenset(heads)
