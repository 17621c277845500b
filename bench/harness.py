"""Real gateway processes for the proof runs (soak, crash, scale-out, scale): a seeded province
on disk, ``gateway serve`` processes serving it, and the log verified as a regulator would.

A :class:`Province` is one database with the demo province seeded (parties, keys, the demo
archive) and the ``GATEWAY_*`` environment every process serving it shares - the same keys, the
same database, the same Redis. A :class:`Gateway` is one ``gateway serve`` process of it on a
port of its own; it can be stopped cleanly, killed with SIGKILL and started again.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bench.passkey import SoftPasskey, seed_passkey
from bench.report import RESULTS, machine
from gateway.demo import read_credentials, seed_demo, seed_demo_archive
from gateway.settings import Settings
from gateway.storage import migrate
from gateway.storage.db import make_engine

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

GATEWAY = str(Path(sys.executable).with_name("gateway"))
LOAD_LIMITS = {
    # The proof runs measure the gateway, not its budgets: every limit far above the load.
    "rate_limit_default": "10000000/minute",
    "rate_limit_public": "10000000/minute",
    "rate_limit_sign_in": "10000000/minute",
}
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Province:
    """A seeded database and the settings every gateway process serving it shares."""

    directory: Path
    values: Mapping[str, str]
    credentials: dict[str, Any] = field(repr=False)

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        database_url: str | None = None,
        redis_url: str | None = None,
        **overrides: str,
    ) -> Province:
        """Migrate, seed the demo province and its archive; ``overrides`` are settings."""
        directory.mkdir(parents=True, exist_ok=True)
        values = {
            "var_dir": str(directory / "var"),
            "database_url": database_url or f"sqlite:///{directory / 'gateway.db'}",
            "base_url": f"http://127.0.0.1:{free_port()}",
            "webhook_interval": "3600",
            "checkpoint_interval": "1",
            **LOAD_LIMITS,
            **({"redis_url": redis_url} if redis_url else {}),
            **overrides,
        }
        settings = _settings(values)
        migrate.upgrade(settings.resolved_database_url)
        seed_demo(settings)
        seed_demo_archive(settings)
        credentials = read_credentials(settings.var_dir / "demo" / "credentials.json")
        passkey = SoftPasskey(settings.base_url)
        engine = make_engine(settings.resolved_database_url)
        seed_passkey(engine, credentials["citizen"]["username"], passkey)
        engine.dispose()
        credentials["citizen"]["passkey"] = passkey.to_json()
        return cls(directory, values, credentials)

    @property
    def settings(self) -> Settings:
        return _settings(self.values)

    @property
    def environment(self) -> dict[str, str]:
        """The process environment: this one's, with every ``GATEWAY_*`` variable replaced."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        return {**inherited, **{f"GATEWAY_{k.upper()}": v for k, v in self.values.items()}}

    @property
    def base_url(self) -> str:
        return self.values["base_url"]

    @property
    def credentials_file(self) -> Path:
        return Path(self.values["var_dir"]) / "demo" / "credentials.json"

    def engine(self) -> Engine:
        return make_engine(self.settings.resolved_database_url)

    def gateway(self, port: int | None = None, name: str = "gateway") -> Gateway:
        """A gateway process of this province; the first one listens on the base URL's port."""
        port = port or int(self.base_url.rsplit(":", 1)[1])
        return Gateway(self, port, self.directory / f"{name}-{port}.log")

    def verify_log(self) -> str:
        """``gateway audit verify --local``, as a regulator runs it, keeping its state between
        calls: the log must also be consistent with every checkpoint verified before (after a
        crash too). Raises if it fails."""
        state = self.directory / "audit-verifier.json"
        result = subprocess.run(
            [GATEWAY, "audit", "verify", "--local", "--state", str(state)],
            env=self.environment,
            cwd=self.directory,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise LogNotVerified(result.stdout + result.stderr)
        return result.stdout.strip()


class LogNotVerified(RuntimeError):
    """``gateway audit verify --local`` failed."""


def _settings(values: Mapping[str, str]) -> Settings:
    return Settings(**values, _env_file=None)  # type: ignore[arg-type]


class Gateway:
    """One ``gateway serve`` process; its output goes to ``log`` (appended across restarts)."""

    def __init__(self, province: Province, port: int, log: Path) -> None:
        self.province = province
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    def start(self) -> Gateway:
        environment = {**self.province.environment, "GATEWAY_PORT": str(self.port)}
        with self.log.open("ab") as output:
            self._process = subprocess.Popen(
                [GATEWAY, "serve"],
                env=environment,
                cwd=self.province.directory,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"the gateway exited; see {self.log}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the gateway did not get ready in {READY_TIMEOUT:.0f} s")

    def kill(self) -> None:
        """SIGKILL: no clean stop, no last checkpoint, nothing flushed."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()

    def stop(self) -> None:
        """SIGTERM, as an orchestrator stops it: the log is flushed and a checkpoint signed. A
        gateway that has not stopped 30 s later is killed, and the run fails: a clean stop that
        hangs loses the last checkpoint."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                raise RuntimeError(
                    f"the gateway did not stop {STOP_TIMEOUT:.0f} s after SIGTERM; see {self.log}"
                ) from None

    def rss_bytes(self) -> int:
        """The resident set size of the serving process and of the processes it started (the
        audit log's writer) now."""
        return sum(map(_rss_bytes, [self.pid, *descendants(self.pid)]))

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def _rss_bytes(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:  # it ended since it was listed
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc status")


def children(pid: int, thread: int | None = None) -> list[int]:
    """The processes that ``pid``'s ``thread`` (its main thread by default) started."""
    path = Path(f"/proc/{pid}/task/{thread or pid}/children")
    return [int(child) for child in path.read_text().split()]


def descendants(pid: int) -> list[int]:
    """Every process under ``pid``, whichever of its threads started it."""
    found = []
    for thread in Path(f"/proc/{pid}/task").iterdir():
        with suppress(OSError):  # a thread that ended meanwhile
            for child in children(pid, int(thread.name)):
                found += [child, *descendants(child)]
    return found


def process_cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU seconds of process ``pid``, or of its ``thread`` only."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serving_processes(pid: int, workers: int, port: int) -> list[int]:
    """The processes of server ``pid`` that serve ``port``: with one worker ``pid`` itself, else
    those of its children that listen there - uvicorn's supervisor serves nothing, and its other
    children (multiprocessing's helper, the audit log's writers) do not listen."""
    if workers == 1:
        return [pid]
    listening = {inode for inode, state in tcp_states(port).items() if state == LISTEN}
    return [child for child in children(pid) if listening.intersection(socket_inodes(child))]


ESTABLISHED, LISTEN = "01", "0A"
"""TCP states as ``/proc/net/tcp`` writes them."""


def tcp_states(port: int) -> dict[str, str]:
    """The state of each TCP socket whose local port is ``port``, by inode."""
    states = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                states[fields[9]] = fields[3]
    return states


def socket_inodes(pid: int) -> list[str]:
    """The inodes of the sockets process ``pid`` holds."""
    inodes = []
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        with suppress(OSError):  # closed meanwhile
            target = os.readlink(descriptor)
            if target.startswith("socket:["):
                inodes.append(target[len("socket:[") : -1])
    return inodes


@contextmanager
def scratch_database(url: str | None) -> Iterator[str | None]:
    """``url`` itself for SQLite; a fresh schema for PostgreSQL (dropped afterwards); None
    stays None (SQLite in the province's directory)."""
    if url is None or make_url(url).get_backend_name() != "postgresql":
        yield url
        return
    with postgres_schema(url) as scoped:
        yield scoped


def write_report(name: str, report: DataclassInstance) -> Path:
    """``bench/results/<name>.json``: a proof run's report with the machine it ran on."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {"machine": machine(), "report": asdict(report)}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL at ``url``, dropped afterwards; yields its URL."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    schema = f"proof_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
