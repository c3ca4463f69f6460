"""``autofin risk publish|activate|challenger|scorecards|monitor`` against a real database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from autofin.cli import main
from marketplace.scorecards.models import PublishedScorecard
from shared.db import Database
from shared.settings import get_settings
from tests.scorecard_cards import card


@pytest.fixture
def database_setting(
    committed_database: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    url = committed_database.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("AUTOFIN_DATABASE_URL", url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("database_setting")
async def test_an_admin_publishes_activates_and_compares_cards_from_the_command_line(
    committed_database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for version in ("cli-champion", "cli-challenger"):
        (tmp_path / version).mkdir()
        (tmp_path / version / "scorecard.json").write_text(json.dumps(card(version)))
        await asyncio.to_thread(main, ["risk", "publish", str(tmp_path / version)])
    # Publishing the same card again changes nothing.
    await asyncio.to_thread(main, ["risk", "publish", str(tmp_path / "cli-champion")])
    await asyncio.to_thread(main, ["risk", "activate", "cli-champion"])
    await asyncio.to_thread(main, ["risk", "challenger", "cli-challenger"])
    await asyncio.to_thread(main, ["risk", "scorecards"])
    await asyncio.to_thread(main, ["risk", "monitor", "--as-of", "2026-12-01", "--json"])

    out = capsys.readouterr().out
    assert "cli-champion is now the champion" in out
    assert "cli-challenger is now the challenger" in out
    assert "champion in service: cli-champion" in out
    report = json.loads(out[out.index("{") :])
    assert report["scorecard_version"] == "cli-champion" and report["loans_observed"] == 0
    async with committed_database.sessionmaker() as session:
        roles = {
            row.version: row.role
            for row in (await session.execute(select(PublishedScorecard))).scalars()
        }
    assert roles == {"cli-champion": "champion", "cli-challenger": "challenger"}
