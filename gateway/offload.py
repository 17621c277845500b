"""Work handed from a request's task: blocking work to a thread, in one step, and work that must
finish even when the request is cancelled to a task of its own.

Starlette's ``run_in_threadpool`` goes through anyio (a capacity limiter, the backend looked up
per call, a worker queue of its own); profiled under load, that bookkeeping cost as much as the
hand-over itself. :func:`in_thread` hands a function to one shared pool through asyncio's own
executor API, with the caller's context (its trace span) copied, as anyio does.

A request's task is cancelled when its client goes away; :func:`run_to_the_end` runs a coroutine
in a task the cancellation does not reach (``asyncio.shield``), kept referenced until it ends:
what it registers is registered whole, answered or not.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from gateway.storage.reads import CONNECTIONS

P = ParamSpec("P")
T = TypeVar("T")

# What is handed over is a request's screen that may wait for more than a read (a budget in
# Redis, a DPoP proof's replay record), with an inquiry's reads then, and the writes of a few
# routes (no thread waits for the log): each holds a thread for a round trip or two and a
# little Python. Four overlap enough of them; more only contend for the interpreter lock
# (measured against 8 and 40: 3 to 5 % more inquiries per second, one and two processes).
# Never more than the reads have connections, or a thread would wait for one.
THREADS = min(4, CONNECTIONS)
_POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="gateway-request")
_RUNNING: set[asyncio.Task[Any]] = set()


async def in_thread(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` in a worker thread, in a copy of the caller's context."""
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, lambda: context.run(function, *args, **kwargs))


async def run_to_the_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """Await ``coroutine`` in a task of its own (a copy of the caller's context), which goes on
    to its end if the caller is cancelled; its outcome is then dropped."""
    task = asyncio.create_task(coroutine)
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return await asyncio.shield(task)
