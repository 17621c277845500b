"""A ceiling on request bodies (OWASP API4: unrestricted resource consumption).

A body longer than ``GATEWAY_MAX_BODY_BYTES`` is refused with a 413 problem: before anything
is read when its ``Content-Length`` says so, otherwise as soon as the bytes received pass the
ceiling - a chunked body is never buffered beyond it (a body of a declared length is not
counted again: the server reads no more of it than declared). A refused request reaches no
route with its body, so nothing of it is stored.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.problem_handlers import http_problem

TOO_LARGE = 413


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit():
            if int(declared) > self.max_bytes:
                await http_problem(TOO_LARGE)(scope, receive, send)
                return
            if "transfer-encoding" not in headers:
                # The server reads no more of the body than its declared length.
                await self.app(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException: the framework passes it through to the problem handler.
                    raise HTTPException(TOO_LARGE)
            return message

        await self.app(scope, limited_receive, send)
