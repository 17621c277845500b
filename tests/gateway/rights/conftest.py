"""One migrated database and one running gateway per module and backend, its scheduler off:
the tests run the jobs themselves, each on records of its own, so they share the setup."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.settings import Settings
from tests.conftest import BACKENDS
from tests.gateway.consents.factories import Flow
from tests.gateway.inquiries.factories import World
from tests.gateway.modules import module_settings, running_demo
from tests.gateway.rights.factories import Rights


@pytest.fixture(scope="module", params=BACKENDS)
def rights_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    with module_settings(
        request.param,
        tmp_path_factory,
        "rights",
        rate_limit_public="100000/minute",
        rate_limit_sign_in="1000/minute",
        webhook_interval=3600,  # the tests deliver themselves
        checkpoint_interval=3600,
        scheduler_enabled=False,  # the tests run the jobs themselves
    ) as settings:
        yield settings


@pytest.fixture(scope="module")
def rights(rights_settings: Settings) -> Iterator[Rights]:
    with running_demo(rights_settings) as (client, credentials):
        yield Rights(World(Flow(client, rights_settings, credentials)))
