"""HTTP load from ``wrk`` (C, epoll): a fixed number of keep-alive connections for a fixed time.

Each run writes a Lua script (:func:`script`) that sets the method and the headers and cycles
through the request bodies - one per request, so that every authorized inquiry names a grant -
and whose ``done`` hook prints one JSON line: the requests answered, the time they took, p50
and p99 of their latencies (wrk's ``--latency`` histogram) and the errors (any status >= 400,
connect, read, write, timeout). The load generator is C, not Python: it is not what bounds the
bare endpoint on a small machine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

THREADS = 2
MISSING = "make bench needs wrk, the HTTP load generator: apt-get install wrk"

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Request:
    """What one wrk run sends: ``bodies`` in turn (empty: no body)."""

    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    bodies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Measured:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def require_wrk() -> str:
    """The path of ``wrk``; raises with the install command when it is missing."""
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError(MISSING)
    return found


def script(request: Request) -> str:
    """The Lua script of ``request``: method, headers, the bodies in turn, a JSON summary."""
    lines = [f"wrk.method = {_lua(request.method)}"]
    lines += [f"wrk.headers[{_lua(name)}] = {_lua(value)}" for name, value in request.headers]
    if request.bodies:
        lines.append("local bodies = {" + ",".join(_lua(b) for b in request.bodies) + "}")
        lines.append("local n = 0")
        lines.append(
            "request = function()\n  n = n + 1\n"
            "  return wrk.format(nil, nil, nil, bodies[n % #bodies + 1])\nend"
        )
    return "\n".join(lines) + _DONE


def run(request: Request, *, seconds: float, connections: int, scratch: Path) -> Measured:
    """``wrk`` against ``request.url`` for ``seconds`` over ``connections`` connections."""
    lua = scratch / "wrk.lua"
    lua.write_text(script(request))
    command = [
        require_wrk(),
        f"-t{min(THREADS, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(lua),
        request.url,
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    summary = json.loads(output.strip().splitlines()[-1])
    seconds_taken = summary["duration_us"] / 1e6
    return Measured(
        requests_per_second=summary["requests"] / seconds_taken,
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        requests=summary["requests"],
        errors=summary["errors"],
    )


def _lua(text: str) -> str:
    """A Lua string literal: Lua strings are bytes, so UTF-8 passes; JSON escapes quotes,
    backslashes and newlines as Lua does (the texts here hold no other control characters)."""
    if any(ord(character) < 0x20 and character != "\n" for character in text):
        raise ValueError("a control character in a request of the benchmark")
    return json.dumps(text, ensure_ascii=False)
