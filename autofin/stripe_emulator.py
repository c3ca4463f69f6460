"""A local Stripe for development and tests: the ``localstripe`` emulator, on 127.0.0.1 only.

``autofin serve`` in development, with no Stripe key configured, starts one and points the
app at it, so a newcomer can run the whole handover (the down payment included) on one
machine; the tests use it the same way. Its stock command binds every interface and pickles
its whole store to ``/tmp/localstripe.pickle`` after every write; here the store stays in
memory and the server listens on loopback only.

Run ``python -m autofin.stripe_emulator``: it prints its port, then serves.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx


def main() -> None:
    from aiohttp import web
    from localstripe import resources
    from localstripe.server import app

    resources.Store.dump_to_disk = lambda self: None
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)


def start() -> tuple[subprocess.Popen[str], str]:
    """Start an emulator in a child process; the process and its base address, once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "autofin.stripe_emulator"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip() or 0)
        if not port:
            raise RuntimeError("the Stripe emulator did not report its port")
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_answering(base_url, process)
    except BaseException:
        stop(process)
        raise
    return process, base_url


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def register_webhook(base_url: str, name: str, url: str, secret: str, events: list[str]) -> None:
    """Have the emulator post ``events`` to ``url``, signed with ``secret`` (as Stripe does)."""
    response = httpx.post(
        f"{base_url}/_config/webhooks/{name}",
        json={"url": url, "secret": secret, "events": events},
        timeout=5,
    )
    response.raise_for_status()


def _wait_until_answering(base_url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the Stripe emulator exited during start-up")
        try:
            httpx.get(f"{base_url}/v1/customers", timeout=1)  # any answer means it serves
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the Stripe emulator did not answer within 15 s")


if __name__ == "__main__":
    main()
