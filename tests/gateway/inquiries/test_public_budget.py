"""Anti-harvesting on lawful public disclosure (Art. 39, 40): a per-IP burst and daily budget
of its own, refused with 429 and Retry-After once spent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from gateway.storage import migrate
from tests.gateway.inquiries.factories import UNKNOWN
from tests.gateway.test_problems import assert_problem

LOOKUP = f"/v1/public/credit-subjects/{UNKNOWN}"


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[TestClient]:
    """A gateway whose public lookup allows 2 a second and 3 a day per IP (SQLite: the budget
    is the rate limiter's, whatever the database)."""
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    migrate.upgrade(url)
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=url,
        rate_limit_public="2/second;3/day",
        _env_file=None,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_public_lookups_have_a_burst_and_a_daily_budget_per_ip(limited: TestClient) -> None:
    assert [limited.get(LOOKUP).status_code for _ in range(2)] == [200, 200]
    burst = limited.get(LOOKUP)
    assert_problem(burst, 429)
    assert int(burst.headers["Retry-After"]) >= 1
    time.sleep(1.1)
    assert limited.get(LOOKUP).status_code == 200
    time.sleep(1.1)
    daily = limited.get(LOOKUP)
    assert_problem(daily, 429)
    assert int(daily.headers["Retry-After"]) > 3600
    assert limited.get("/healthz").status_code == 200  # other routes keep their budget
