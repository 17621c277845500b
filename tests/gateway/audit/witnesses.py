"""Witnesses as operators run them: ``gateway audit witness serve`` processes on free ports."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from audit.note import Cosigner
from tests.live import free_port

GATEWAY = str(Path(sys.executable).with_name("gateway"))


@dataclass(frozen=True)
class RunningWitness:
    url: str
    cosigner: Cosigner
    state: Path

    @property
    def vkey(self) -> str:
        return self.cosigner.verifier().vkey


@contextmanager
def running_witness(where: Path, name: str, *log_keys: str) -> Iterator[RunningWitness]:
    """A witness process for the logs of ``log_keys``; its key, state and log under ``where``."""
    where.mkdir(parents=True, exist_ok=True)
    cosigner = Cosigner(name, Ed25519PrivateKey.generate())
    pem = cosigner.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    (where / "witness.pem").write_bytes(pem)
    port = free_port()
    command = [GATEWAY, "audit", "witness", "serve", "--witness-key", str(where / "witness.pem")]
    command += ["--state", str(where / "state.json"), "--name", name, "--port", str(port)]
    for vkey in log_keys:
        command += ["--log", vkey]
    with (where / "server.log").open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        _wait_for(port, process)
        yield RunningWitness(f"http://127.0.0.1:{port}", cosigner, where / "state.json")
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the witness exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail("the witness did not start")
