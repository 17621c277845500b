"""One migrated database and one running gateway per module and backend: the archive tests
each work on subjects of their own, so they share the setup (and stay fast)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from gateway.storage import migrate
from tests.conftest import BACKENDS
from tests.gateway.archive.factories import Archive
from tests.gateway.factories import demo_credentials
from tests.services import postgres_schema


@pytest.fixture(scope="module", params=BACKENDS)
def archive_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    directory: Path = tmp_path_factory.mktemp("archive")

    def settings(url: str) -> Settings:
        migrate.upgrade(url)
        return Settings(
            var_dir=directory / "var",
            database_url=url,
            rate_limit_default="100000/minute",
            _env_file=None,
        )

    if request.param == "sqlite":
        yield settings(f"sqlite:///{directory / 'gateway.db'}")
        return
    with postgres_schema() as url:
        yield settings(url)


@pytest.fixture(scope="module")
def archive(archive_settings: Settings) -> Iterator[Archive]:
    credentials = demo_credentials(archive_settings)
    app = create_app(archive_settings)
    with TestClient(app) as client:
        yield Archive(client, archive_settings, credentials)
    app.state.engine.dispose()
