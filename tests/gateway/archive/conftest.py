"""One migrated database and one running gateway per module and backend: the archive tests
each work on subjects of their own, so they share the setup (and stay fast)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.settings import Settings
from tests.conftest import BACKENDS
from tests.gateway.archive.factories import Archive
from tests.gateway.modules import module_settings, running_demo


@pytest.fixture(scope="module", params=BACKENDS)
def archive_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    with module_settings(request.param, tmp_path_factory, "archive") as settings:
        yield settings


@pytest.fixture(scope="module")
def archive(archive_settings: Settings) -> Iterator[Archive]:
    with running_demo(archive_settings) as (client, credentials):
        yield Archive(client, archive_settings, credentials)
