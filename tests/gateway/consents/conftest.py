"""One migrated database and one running gateway per module and backend: the consent tests
each work on grants of their own, so they share the setup (and stay fast)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.settings import Settings
from tests.conftest import BACKENDS
from tests.gateway.consents.factories import Flow
from tests.gateway.modules import module_settings, running_demo


@pytest.fixture(scope="module", params=BACKENDS)
def flow_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    with module_settings(
        request.param,
        tmp_path_factory,
        "consents",
        rate_limit_sign_in="1000/minute",
        webhook_interval=3600,  # the tests run deliveries themselves
    ) as settings:
        yield settings


@pytest.fixture(scope="module")
def flow(flow_settings: Settings) -> Iterator[Flow]:
    with running_demo(flow_settings) as (client, credentials):
        yield Flow(client, flow_settings, credentials)
