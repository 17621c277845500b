"""Request bodies have a ceiling (OWASP API4): a longer body is refused with a 413 problem
before any route reads it, whether its length is declared or it arrives in chunks, and
nothing of the refused request is stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gateway.settings import Settings
from gateway.storage import migrate
from tests.gateway.factories import assertion_form
from tests.gateway.modules import running_demo
from tests.gateway.test_problems import assert_problem

LIMIT = 4096


def chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    """``body`` sent in pieces, without a Content-Length (chunked transfer encoding)."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_body_over_the_ceiling_is_refused_and_nothing_of_it_is_stored(
    tmp_path: Path, database_url: str
) -> None:
    settings = Settings(
        var_dir=tmp_path / "var", database_url=database_url, max_body_bytes=LIMIT, _env_file=None
    )
    migrate.upgrade(settings.resolved_database_url)
    with running_demo(settings) as (client, credentials):
        form = {"grant_type": "client_credentials", **assertion_form(credentials["agency"])}
        padded = {**form, "padding": "x" * LIMIT}
        refused = client.post("/oauth/token", data=padded)
        problem = assert_problem(refused, 413)
        assert "GATEWAY_MAX_BODY_BYTES" in str(problem["detail"])
        # the refused request's assertion was never recorded: it is not a replay now
        assert client.post("/oauth/token", data=form).status_code == 200

        inquiry = b'{"subject": {"kind": "id_number", "value": "' + b"1" * LIMIT + b'"}}'
        for sent in (
            client.post("/v1/inquiries/sharing", content=inquiry),
            client.post("/v1/inquiries/sharing", content=chunks(inquiry)),
        ):
            assert_problem(sent, 413)
        # under the ceiling, the same route answers as it would (here: no token, 401)
        assert client.post("/v1/inquiries/sharing", content=b"{}").status_code == 401
