"""Build the Go programs of tests/gateway/audit/go with Debian's Go toolchain, offline.

Only the Go standard library and Debian's ``golang-golang-x-mod-dev`` (GOPATH
/usr/share/gocode) are available: GO111MODULE=off, GOPROXY=off, nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.services import REQUIRE_SERVICES

GO = os.environ.get("GATEWAY_TEST_GO", "/usr/bin/go")
GOPATH = Path("/usr/share/gocode")
SOURCES = Path(__file__).parent / "go"


def go_environment(cache: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GOPATH),
        "GOPROXY": "off",
        "GOFLAGS": "",
        "GOCACHE": str(cache),
    }


def build(program: str, out: Path) -> Path:
    """Compile ``go/<program>`` into ``out``; fail (or skip without CI) when Go is missing."""
    missing = [
        what
        for what, present in (
            (f"Go at {GO} (Debian package golang)", shutil.which(GO) is not None),
            (
                "x/mod at /usr/share/gocode (golang-golang-x-mod-dev)",
                (GOPATH / "src/golang.org/x/mod/sumdb/tlog").is_dir(),
            ),
        )
        if not present
    ]
    if missing:
        reason = "not installed: " + ", ".join(missing)
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason}; GATEWAY_TEST_REQUIRE_SERVICES=1 makes this a failure")
        pytest.skip(reason)
    binary = out / program
    subprocess.run(
        [GO, "build", "-o", str(binary), "."],
        cwd=SOURCES / program,
        env=go_environment(out / "gocache"),
        check=True,
        capture_output=True,
    )
    return binary
