"""Where each hot path's CPU goes, by layer: read a sampling profile of ``bench/cost.py``.

Record one (py-spy, a development dependency, samples the running process; as root or with
ptrace allowed), then read it::

    py-spy record -r 400 -f raw -o cost.raw -- python bench/cost.py --rounds 2
    python bench/where.py cost.raw

``bench/cost.py`` runs each path's requests through a frame named ``measuring_<path>``, so
every sample says which path it belongs to. A sample is charged to the layer of the code
running at that moment — a standard-library frame (``json``, ``uuid``, ``contextlib``…) to
the layer that called it:

* **framework**: FastAPI, Starlette, pydantic, uvicorn — routing, dependencies, validation,
  serialisation, middleware plumbing;
* **SQLAlchemy**: the session, statements and their cache keys, the ORM, results;
* **asyncpg**: the driver — encoding parameters, decoding rows, the protocol;
* **event loop**: asyncio's own scheduling of every await;
* **Autofin**: our code (``shared``, ``marketplace``, ``dealer_portal``, ``pricing``,
  ``risk``, ``autofin``), with the libraries it calls directly (``cryptography``, ``babel``…);
* **client**: the bench's in-process HTTP client (httpx), which a real server does not pay.

Samples of the process waiting (in ``epoll``) are left out, as are one-time costs (imports).
``--top N`` also lists, for each path, the N functions of ours that the most samples were
under as the innermost of ours on the stack: what they do themselves and the library work
(statements, flushes, validation) they asked for; FastAPI's own handling of the request, under
our middlewares but outside our code, is one line of its own.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

LAYERS = ("framework", "SQLAlchemy", "asyncpg", "event loop", "Autofin", "client")
OURS = ("shared/", "marketplace/", "dealer_portal/", "pricing/", "risk/", "autofin/")
_BY_PACKAGE = {
    "fastapi/": "framework",
    "starlette/": "framework",
    "pydantic/": "framework",
    "pydantic_core/": "framework",
    "uvicorn/": "framework",
    "anyio/": "framework",
    "sqlalchemy/": "SQLAlchemy",
    "sqlmodel/": "SQLAlchemy",
    "greenlet/": "SQLAlchemy",
    "asyncpg/": "asyncpg",
    "asyncio/": "event loop",
    "uvloop/": "event loop",
    "httpx/": "client",
    "httpcore/": "client",
    "h11/": "client",
}
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
_MARK = re.compile(r"^measuring_(?P<path>\w+) ")
FASTAPI = "FastAPI's own handling (routing, dependencies, validation, serialisation)"
_IDLE = ("select (selectors.py", "poll (", "Condition.wait", "Queue.get")
_ONE_TIME = ("_find_and_load", "_build_effective_context")


def layer_of(file: str) -> str | None:
    """The layer a frame's file belongs to; None for the standard library and for frames
    py-spy names without a path."""
    if file.startswith(OURS):
        return "Autofin"
    for package, layer in _BY_PACKAGE.items():
        if file.startswith(package):
            return layer
    if file.endswith(("cost.py", "_seed.py")):
        return "client"
    if "/" in file:  # another library: charged to whoever called it
        return None
    return "event loop" if file in ("base_events.py", "events.py", "selector_events.py") else None


@dataclass
class PathProfile:
    samples: int = 0
    layers: Counter[str] = field(default_factory=Counter)
    ours: Counter[str] = field(default_factory=Counter)


def read(raw: Path) -> dict[str, PathProfile]:
    """Each measured path's samples, by layer (see the module's docstring)."""
    paths: dict[str, PathProfile] = {}
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        at = next((i for i, f in enumerate(frames) if _MARK.match(f)), None)
        if at is None or frames[-1].startswith(_IDLE):
            continue
        if any(f.startswith(_ONE_TIME) for f in frames):
            continue
        mark = _MARK.match(frames[at])
        assert mark is not None
        profile = paths.setdefault(mark["path"], PathProfile())
        n = int(count)
        profile.samples += n
        below = [_FRAME.match(f) for f in frames[at + 1 :]]
        parsed = [(m["function"], m["file"]) for m in below if m is not None]
        layer = next(
            (found for _, file in reversed(parsed) if (found := layer_of(file)) is not None),
            "client",
        )
        profile.layers[layer] += n
        deepest = next(((f, file) for f, file in reversed(parsed) if file.startswith(OURS)), None)
        if deepest is not None:
            function, file = deepest
            # Under our innermost middleware and none of our code: FastAPI's own handling.
            mine = f"{function} ({file})" if function != "TransientRetry.__call__" else FASTAPI
            profile.ours[mine] += n
    return paths


def table(paths: dict[str, PathProfile]) -> str:
    lines = [
        "| path | samples | " + " | ".join(LAYERS) + " |",
        "|---|---:|" + "---:|" * len(LAYERS),
    ]
    for path, profile in sorted(paths.items()):
        shares = " | ".join(
            f"{100 * profile.layers[layer] / profile.samples:.0f} %" for layer in LAYERS
        )
        lines.append(f"| {path} | {profile.samples:,} | {shares} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", type=Path, help="py-spy's raw output over bench/cost.py")
    parser.add_argument(
        "--top", type=int, default=0, help="each path's N heaviest functions of ours"
    )
    args = parser.parse_args()
    paths = read(args.raw)
    if not paths:
        raise SystemExit(f"{args.raw}: no sample inside a measuring_<path> frame")
    print(table(paths))
    for path, profile in sorted(paths.items()) if args.top else ():
        print(f"\n{path}:")
        for function, n in profile.ours.most_common(args.top):
            print(f"  {100 * n / profile.samples:4.0f} %  {function}")


if __name__ == "__main__":
    main()
