"""One migrated database, one running gateway and one real OpenID provider per module and
backend: the subject tests each enrol subjects of their own, so they share the setup."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.parties.oidc import CALLBACK_PATH
from gateway.settings import Settings
from tests.conftest import BACKENDS
from tests.gateway.modules import module_settings, running_demo
from tests.gateway.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from tests.gateway.subjects.factories import Subjects


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider({}, f"{Settings().base_url}{CALLBACK_PATH}") as running:
        yield running


@pytest.fixture(scope="module", params=BACKENDS)
def subjects_settings(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    provider: Provider,
) -> Iterator[Settings]:
    with module_settings(
        request.param,
        tmp_path_factory,
        "subjects",
        rate_limit_sign_in="1000/minute",
        webhook_interval=3600,
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
    ) as settings:
        yield settings


@pytest.fixture(scope="module")
def world(subjects_settings: Settings, provider: Provider) -> Iterator[Subjects]:
    with running_demo(subjects_settings) as (client, credentials):
        yield Subjects(client, subjects_settings, credentials, provider=provider)
