"""Module-scoped setup shared by the service test folders: one migrated database and one running
gateway per module and backend; each test works on objects of its own, so they share it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bench.passkey import SoftPasskey, StepUp
from gateway.app import create_app
from gateway.keys import GatewayKeys
from gateway.settings import Settings
from gateway.storage import migrate
from tests.gateway.factories import access_token, demo_credentials
from tests.services import postgres_schema

TEST_HOLIDAYS = Path(__file__).with_name("holidays")
"""An operator's holiday schedule for the year after the package's last (test data)."""


@contextmanager
def module_settings(
    backend: str, tmp_path_factory: pytest.TempPathFactory, name: str, **overrides: Any
) -> Iterator[Settings]:
    """Migrated settings on ``backend`` with generous rate limits, the test holiday schedule,
    the log's batches written as a served gateway writes them on PostgreSQL (on its event loop;
    tests/conftest.py), and ``overrides``."""
    directory: Path = tmp_path_factory.mktemp(name)
    writer = "process" if backend == "postgresql" else "thread"

    def settings(url: str) -> Settings:
        migrate.upgrade(url)
        return Settings(
            var_dir=directory / "var",
            database_url=url,
            rate_limit_default="100000/minute",
            _env_file=None,
            **{"holiday_calendar": TEST_HOLIDAYS, "audit_writer": writer, **overrides},
        )

    if backend == "sqlite":
        yield settings(f"sqlite:///{directory / 'gateway.db'}")
        return
    with postgres_schema() as url:
        yield settings(url)


@contextmanager
def running_demo(settings: Settings) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    """The seeded demo province's credentials and a client of a running gateway."""
    credentials = demo_credentials(settings)
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, credentials
    app.state.engine.dispose()


@dataclass
class RunningGateway:
    """The running gateway of a test module, its demo personas and their cached tokens."""

    client: TestClient
    settings: Settings
    credentials: dict[str, Any]
    _tokens: dict[str, str] = field(default_factory=dict)
    _step_up: StepUp | None = None

    @property
    def engine(self) -> Engine:
        engine: Engine = self.client.app.state.engine  # type: ignore[attr-defined]
        return engine

    @property
    def keys(self) -> GatewayKeys:
        keys: GatewayKeys = self.client.app.state.keys  # type: ignore[attr-defined]
        return keys

    def headers(self, persona: str) -> dict[str, str]:
        """Bearer headers of a demo persona, ``citizen`` included (signed in once)."""
        if persona not in self._tokens:
            self._tokens[persona] = (
                self.citizen_token()
                if persona == "citizen"
                else access_token(self.client, self.credentials[persona])
            )
        return {"Authorization": f"Bearer {self._tokens[persona]}"}

    @property
    def step_up(self) -> StepUp:
        """The demo citizen's second factor in the session of ``headers("citizen")``: a
        software passkey, enrolled on first use with a code of the demo TOTP secret."""
        if self._step_up is None:
            passkey = SoftPasskey(self.settings.base_url)
            self._step_up = StepUp(self.client, self.headers("citizen"), passkey)
            self._step_up.enrol(self.credentials["citizen"]["totp_secret"])
        return self._step_up

    def second_factor(self, action: str, grant_id: str | None) -> str:
        """A proof of the demo citizen's passkey for one decision."""
        return self.step_up.proof(action, grant_id)

    def citizen_token(self) -> str:
        citizen = self.credentials["citizen"]
        form = {"username": citizen["username"], "password": citizen["password"]}
        response = self.client.post("/v1/me/token", data=form)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token
