"""One migrated database and one running gateway per module and backend, with the records and
parties the inquiry tests read: each test makes inquiries (and grants) of its own, so they share
the setup and stay fast."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.settings import Settings
from tests.conftest import BACKENDS
from tests.gateway.consents.factories import Flow
from tests.gateway.inquiries.factories import World
from tests.gateway.modules import module_settings, running_demo


@pytest.fixture(scope="module", params=BACKENDS)
def world_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    with module_settings(
        request.param,
        tmp_path_factory,
        "inquiries",
        rate_limit_public="100000/minute",
        rate_limit_sign_in="1000/minute",
        webhook_interval=3600,
        checkpoint_interval=3600,  # the tests sign checkpoints themselves
    ) as settings:
        yield settings


@pytest.fixture(scope="module")
def world(world_settings: Settings) -> Iterator[World]:
    with running_demo(world_settings) as (client, credentials):
        built = World(Flow(client, world_settings, credentials))
        built.add_records()
        built.add_agency_without_sector()
        yield built
