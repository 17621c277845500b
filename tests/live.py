"""A real server on 127.0.0.1 for tests that need one (browsers, outside HTTP clients)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from tests.services import REQUIRE_SERVICES

CHROMIUM = os.environ.get("GATEWAY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "test-artifacts"


PORTS = os.environ.get("GATEWAY_TEST_PORTS", "")
"""``FIRST-LAST``: the ports test servers may use (for a machine shared by several runs);
any free port when unset."""


def free_port() -> int:
    first, _, last = PORTS.partition("-")
    for port in range(int(first), int(last) + 1) if PORTS else [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            found: int = probe.getsockname()[1]
            return found
    raise RuntimeError(f"no free port in GATEWAY_TEST_PORTS={PORTS}")


@contextmanager
def serve(app: FastAPI, port: int | None = None, host_name: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on 127.0.0.1 (``port``, or a free one); yields
    its base URL, naming the host ``host_name`` (``localhost`` for WebAuthn, whose relying
    party is a domain, never an IP address)."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host_name}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def require_chromium() -> str:
    if shutil.which(CHROMIUM) is None:
        reason = f"Chromium not found at {CHROMIUM} (Debian package `chromium`)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason}; GATEWAY_TEST_REQUIRE_SERVICES=1 makes this a failure")
        pytest.skip(reason)
    return CHROMIUM
