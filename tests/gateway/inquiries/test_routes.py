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
from gateway.ratelimit import PUBLIC_LOOKUP
from gateway.routes.inquiries import CHANNELS, InquiryRoute
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
