"""An embedded PostgreSQL (the ``pgserver`` package) for a machine with no database configured."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

POSTGRES_DIRNAME = "pgdata"


def start_embedded_postgres(data_dir: Path) -> tuple[Any, str]:
    """Start (or reuse) a PostgreSQL server under ``data_dir``; return it and its URL.

    The server lives as long as the returned handle (keep a reference to it).
    """
    with warnings.catch_warnings():
        # platformdirs warns about XDG_RUNTIME_DIR on servers; the data directory is explicit.
        warnings.simplefilter("ignore")
        import pgserver  # imported here: only the embedded path needs it

    pgdata = (data_dir / POSTGRES_DIRNAME).resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(  # type: ignore[attr-defined]
        pgdata, cleanup_mode="stop"
    )
    return server, str(server.get_uri())
