"""The inquiry routes served without the framework's dependency solving run exactly what it
would have run for them: the app's screen, then the channel's caller - the screen handed to a
worker thread together with the inquiry's reads where those are handed over."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI, routing

from gateway import offload
from gateway.auth import inquirer, screen
from gateway.consents.repository import _GRANT_AND_FILE
from gateway.oauth.repository import _REFUSED
from gateway.ratelimit import PUBLIC_LOOKUP
from gateway.routes.inquiries import CHANNELS, InquiryRoute
from gateway.storage.reads import DriverReads, Query
from tests.gateway.inquiries.factories import World

T = TypeVar("T")


def test_the_routes_served_directly_declare_the_screen_and_their_caller_only(app: FastAPI) -> None:
    served = {}
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, InquiryRoute):
            channel = CHANNELS[route.path]
            declared = [dependency.call for dependency in context.dependant.dependencies]
            served[route.path] = route.direct_call(channel) is not None
            if served[route.path]:
                assert declared == [screen, inquirer(channel)], route.path
    assert served == {path: path != PUBLIC_LOOKUP for path in CHANNELS}


SERVED_BY = {
    "authorized": "establishment",
    "sharing": "agency",
    "authority": "agency",
    "self": "citizen",
}


def test_an_inquiry_hands_its_screen_and_its_reads_to_a_thread_at_most_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the reads go to a worker thread (PostgreSQL), the screen goes with them in one
    hand-over; where they run on the event loop (SQLite), only a screen that must (Redis) is
    handed over."""
    asked = {
        channel: (world.request(channel), world.headers(persona))
        for channel, persona in SERVED_BY.items()
    }
    submitted: list[object] = []

    class Counting(ThreadPoolExecutor):
        def submit(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
            submitted.append(function)
            return super().submit(function, *args, **kwargs)

    handed = {}
    with Counting(max_workers=2) as pool:
        monkeypatch.setattr(offload, "_POOL", pool)
        for channel, ((method, path, body), headers) in asked.items():
            before = len(submitted)
            response = world.client.request(method, path, json=body, headers=headers)
            assert response.status_code == 200, response.text
            handed[channel] = len(submitted) - before
    expected = 0 if world.state.screen_inline else 1
    assert handed == dict.fromkeys(SERVED_BY, expected)
    assert world.state.reads_inline or expected == 1


def test_an_authorized_inquiry_reads_its_grant_and_its_files_revision_in_one_statement(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the view is kept: the token's revocation, then the grant with the revision the
    view is kept by - two reads, not three."""
    grant_id = world.grant()
    request, headers = world.authorized(grant_id), world.headers("establishment")
    read: list[Query] = []
    real = DriverReads.all

    def counted(reads: DriverReads, query: Query, **parameters: Any) -> list[Any]:
        read.append(query)
        return real(reads, query, **parameters)

    monkeypatch.setattr(DriverReads, "all", counted)
    for _ in range(2):  # the first renders the view, the second finds it kept
        read.clear()
        response = world.client.post(request[1], json=request[2], headers=headers)
        assert response.status_code == 200, response.text
    assert read == [_REFUSED, _GRANT_AND_FILE]
