"""The inquiry routes served without the framework's dependency solving run exactly what it
would have run for them: the app's screen, then the channel's caller."""

from __future__ import annotations

from fastapi import FastAPI, routing

from gateway.auth import inquirer, screen
from gateway.ratelimit import PUBLIC_LOOKUP
from gateway.routes.inquiries import CHANNELS, InquiryRoute


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
