"""Run localstripe's aiohttp app on 127.0.0.1 only, on a free port, printing the port.

Its stock ``localstripe`` command binds every interface (``::``) and pickles its whole store
to ``/tmp/localstripe.pickle`` after every write (shared by every run on the machine, and slow
as the store grows); this wrapper keeps the store in memory and listens on loopback only.
"""

from __future__ import annotations

import socket

from aiohttp import web
from localstripe import resources
from localstripe.server import app


def _keep_in_memory(self: object) -> None:
    return None


def main() -> None:
    resources.Store.dump_to_disk = _keep_in_memory
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)


if __name__ == "__main__":
    main()
