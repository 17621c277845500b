"""Reach the real PostgreSQL and Redis services, or explain why a test cannot run.

Without the services a test is skipped with the reason; with GATEWAY_TEST_REQUIRE_SERVICES=1
(as CI sets) a missing service fails the test instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get(
    "GATEWAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("GATEWAY_TEST_REQUIRE_SERVICES") == "1"


def unavailable(service: str, error: Exception) -> None:
    reason = f"{service} is not reachable ({type(error).__name__}: {error})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}; GATEWAY_TEST_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(f"{reason}; start it or set GATEWAY_TEST_POSTGRES_URL / GATEWAY_TEST_REDIS_URL")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema on the test PostgreSQL; yields a URL whose search_path is that schema."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        admin.dispose()
        unavailable("PostgreSQL", exc)
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def redis_url() -> str:
    """The test Redis database, emptied first."""
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    return REDIS_URL
