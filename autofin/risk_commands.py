"""``autofin risk publish|scorecards|activate|challenger|monitor``: the risk commands that need
the database. They live in the composition root because ``risk/`` never imports the service;
each runs through the same services the admin API uses, so the audit log shows who did what.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

CLI_ACTOR = "cli:risk"

SessionRunner = Callable[[Callable[[Any], Awaitable[None]]], Coroutine[Any, Any, None]]


def add_registry_commands(risk: Any, with_session: SessionRunner) -> None:
    """Add the registry and monitoring commands under ``autofin risk``."""
    publish = risk.add_parser("publish", help="store a trained scorecard as a candidate")
    publish.add_argument("path", type=Path, help="the directory `risk train` wrote, or a card JSON")
    publish.set_defaults(run=lambda args: asyncio.run(with_session(_publish(args))))

    listing = risk.add_parser("scorecards", help="list published scorecards and their roles")
    listing.set_defaults(run=lambda args: asyncio.run(with_session(_list(args))))

    activate = risk.add_parser("activate", help="make a published scorecard the champion")
    activate.add_argument("version")
    activate.set_defaults(run=lambda args: asyncio.run(with_session(_role(args, "champion"))))

    challenger = risk.add_parser(
        "challenger", help="score a published scorecard in shadow on every application"
    )
    challenger.add_argument("version", nargs="?", help="omit with --clear")
    challenger.add_argument("--clear", action="store_true", help="stop shadow scoring")
    challenger.set_defaults(run=lambda args: asyncio.run(with_session(_role(args, "challenger"))))

    monitor = risk.add_parser(
        "monitor", help="realised vs predicted default by grade on booked loans; score PSI"
    )
    monitor.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default today)"
    )
    monitor.add_argument("--json", action="store_true", help="print JSON instead of a table")
    monitor.set_defaults(run=lambda args: asyncio.run(with_session(_monitor(args))))


def card_file(path: Path) -> Path:
    """The scorecard JSON of ``path``: itself, or ``scorecard.json`` in a directory."""
    return path / "scorecard.json" if path.is_dir() else path


def _publish(args: argparse.Namespace) -> Callable[[Any], Awaitable[None]]:
    async def work(session: Any) -> None:
        from marketplace.scorecards import service
        from shared.db import utcnow

        card = json.loads(card_file(args.path).read_text(encoding="utf-8"))
        row = await service.publish(session, CLI_ACTOR, card, utcnow())
        print(f"published {row.version} ({row.role}, sha256 {row.sha256[:12]})")

    return work


def _list(_: argparse.Namespace) -> Callable[[Any], Awaitable[None]]:
    async def work(session: Any) -> None:
        from marketplace.scorecards import repository, service
        from marketplace.scorecards.schemas import scorecard_public

        in_service = (await service.active_models(session)).champion.version
        rows, _total = await repository.list_page(session, limit=1000, offset=0)
        print(f"champion in service: {in_service}")
        for row in rows:
            public = scorecard_public(row, service.parse(row.card))
            structure = "prices structure" if public.uses_structure else "no structure"
            print(
                f"  {public.version:<32} {public.role:<10} {public.published_at:%Y-%m-%d} "
                f"{len(public.attributes)} attributes, {structure}"
            )

    return work


def _role(args: argparse.Namespace, role: str) -> Callable[[Any], Awaitable[None]]:
    async def work(session: Any) -> None:
        from marketplace.scorecards import service
        from shared.db import utcnow

        now = utcnow()
        if role == "challenger" and args.clear:
            await service.clear_challenger(session, CLI_ACTOR, now)
            print("no challenger: shadow scoring stopped")
            return
        if not args.version:
            raise SystemExit("name a version (or --clear)")
        change = service.activate if role == "champion" else service.set_challenger
        row = await change(session, CLI_ACTOR, args.version, now)
        print(f"{row.version} is now the {row.role}")

    return work


def _monitor(args: argparse.Namespace) -> Callable[[Any], Awaitable[None]]:
    async def work(session: Any) -> None:
        from marketplace.monitoring import service
        from marketplace.policy import current_policy
        from marketplace.scorecards import service as scorecards

        report = await service.run(
            session,
            as_of=args.as_of or date.today(),
            policy=current_policy(),
            champion=(await scorecards.active_models(session)).champion,
        )
        if args.json:
            print(report.model_dump_json(indent=2))
            return
        print(f"Risk monitor as of {report.as_of} (champion {report.scorecard_version})")
        print(f"  bad = {report.bad_definition}")
        print(f"  {report.loans_observed} of {report.loans_booked} booked loans a year on book")
        print(f"  {'grade':<6}{'loans':>7}{'bad':>6}{'realised':>10}{'predicted':>11}")
        for row in [*report.grades, *([report.total] if report.total else [])]:
            print(
                f"  {row.grade:<6}{row.loans:>7}{row.bad:>6}"
                f"{row.realised_default_rate:>10.2%}{row.predicted_default_rate:>11.2%}"
            )
        psi = "n/a" if report.psi is None else f"{report.psi}"
        print(
            f"  score PSI this month: {psi} ({report.stability}, "
            f"{report.applications_scored} applications)"
        )
        if report.challenger is not None:
            shadow = report.challenger
            print(
                f"  challenger {shadow.version}: {shadow.applications} applications, mean PD "
                f"{shadow.mean_pd_challenger} vs champion {shadow.mean_pd_champion}, same letter "
                f"{shadow.same_grade_letter}, approved only by champion "
                f"{shadow.approved_by_champion_only} / only by challenger "
                f"{shadow.approved_by_challenger_only}"
            )

    return work
