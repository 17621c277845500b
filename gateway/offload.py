"""Blocking work handed from the event loop to a thread, in one step.

Starlette's ``run_in_threadpool`` goes through anyio (a capacity limiter, the backend looked up
per call, a worker queue of its own); profiled under load, that bookkeeping cost as much as the
hand-over itself. :func:`in_thread` hands a function to one shared pool through asyncio's own
executor API, with the caller's context (its trace span) copied, as anyio does.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# As many as anyio's default limiter: each waits at most for its audit entry's batch.
THREADS = 40
_POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="gateway-request")


async def in_thread(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` in a worker thread, in a copy of the caller's context."""
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, lambda: context.run(function, *args, **kwargs))
