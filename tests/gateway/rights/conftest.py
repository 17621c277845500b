"""One migrated database and one running gateway per module and backend, its scheduler off:
the tests run the jobs themselves, each on records of its own, so they share the setup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from gateway.storage import migrate
from tests.conftest import BACKENDS
from tests.gateway.consents.factories import Flow
from tests.gateway.factories import demo_credentials
from tests.gateway.inquiries.factories import World
from tests.gateway.rights.factories import Rights
from tests.services import postgres_schema


@pytest.fixture(scope="module", params=BACKENDS)
def rights_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    directory: Path = tmp_path_factory.mktemp("rights")

    def settings(url: str) -> Settings:
        migrate.upgrade(url)
        return Settings(
            var_dir=directory / "var",
            database_url=url,
            rate_limit_default="100000/minute",
            rate_limit_public="100000/minute",
            rate_limit_sign_in="1000/minute",
            webhook_interval=3600,  # the tests deliver themselves
            checkpoint_interval=3600,
            scheduler_enabled=False,  # the tests run the jobs themselves
            _env_file=None,
        )

    if request.param == "sqlite":
        yield settings(f"sqlite:///{directory / 'gateway.db'}")
        return
    with postgres_schema() as url:
        yield settings(url)


@pytest.fixture(scope="module")
def rights(rights_settings: Settings) -> Iterator[Rights]:
    credentials = demo_credentials(rights_settings)
    app = create_app(rights_settings)
    with TestClient(app) as client:
        yield Rights(World(Flow(client, rights_settings, credentials)))
    app.state.engine.dispose()
