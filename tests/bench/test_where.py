"""bench/where.py charges each sample of a profile to the path measured and to the layer of the
code running, so "where the time went" is read the same way every time."""

from __future__ import annotations

from pathlib import Path

from bench.where import FASTAPI, read

APP = (
    "run (bench/cost.py:1);measuring_lookup (bench/cost.py:2);post (httpx/_client.py:3);"
    "__call__ (fastapi/applications.py:4);TransientRetry.__call__ (shared/web/retry.py:5)"
)


def test_samples_are_charged_to_their_path_and_to_the_layer_running(tmp_path: Path) -> None:
    raw = tmp_path / "cost.raw"
    raw.write_text(
        "\n".join(
            [
                # The driver decoding rows for our repository: asyncpg.
                f"{APP};lookup (dealer_portal/service.py:6);execute (sqlalchemy/orm/session.py:7);"
                "fetch (asyncpg/prepared_stmt.py:8) 5",
                # The standard library called by our code: ours.
                f"{APP};lookup (dealer_portal/service.py:6);dumps (json/__init__.py:9) 3",
                # FastAPI validating, under our middlewares, no code of ours: the framework.
                f"{APP};solve_dependencies (fastapi/dependencies/utils.py:10) 2",
                # Waiting in epoll is not CPU, and the warm-up's imports are one-time.
                f"{APP};select (selectors.py:11) 50",
                f"{APP};_find_and_load (<frozen importlib._bootstrap>:12) 40",
                # Outside any measured path (seeding): not charged.
                "run (bench/cost.py:1);post (httpx/_client.py:3) 30",
            ]
        )
    )

    paths = read(raw)

    assert list(paths) == ["lookup"]
    lookup = paths["lookup"]
    assert lookup.samples == 10
    assert dict(lookup.layers) == {"asyncpg": 5, "Autofin": 3, "framework": 2}
    assert lookup.ours["lookup (dealer_portal/service.py)"] == 8
    assert lookup.ours[FASTAPI] == 2
