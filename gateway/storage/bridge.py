"""Blocking code run on the event loop, its driver-level reads awaited there.

The inquiry's decision, reads and redaction are plain functions (:mod:`gateway.inquiries`),
written once for both stores. On PostgreSQL each of their reads is a round trip: in a worker
thread, every inquiry paid two hand-overs between threads and contended with the event loop
for the interpreter lock (measured under load: 3.2 ms waiting to start in the thread, 1.5 ms
to resume on the loop, for 2 ms of work). :func:`run_on_loop` runs such a function in a greenlet
on the loop; a read it makes at the driver level (:mod:`gateway.storage.reads`) hands its
statement to the loop (:func:`wait_for`), which awaits it on an asynchronous connection and
resumes the function with the rows. No thread is involved, and the loop serves other requests
while the statement is in flight. ``greenlet`` is what SQLAlchemy's own asyncio layer runs on;
its helpers there are internal, so the bridge - a few dozen lines - is written here."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, ParamSpec, TypeVar

from greenlet import GreenletExit, getcurrent, greenlet

P = ParamSpec("P")
T = TypeVar("T")


class _OnLoop(greenlet):
    """Runs the functions of :func:`run_on_loop`, one after the other, kept between them: a new
    greenlet costs far more than a switch (in CPython 3.11 on, a frame stack of its own).
    While idle it holds nothing of the last function: not the function, not its outcome."""

    def __init__(self) -> None:
        super().__init__(self._serve)

    def _serve(self, given: list[Callable[[], Any]]) -> None:
        parent = self.parent
        assert parent is not None  # the thread's main greenlet, which runs the event loop
        while True:
            given = parent.switch(_Done.of(given.pop()))


class _Done:
    """A function's outcome, taken once by the task that awaited it."""

    __slots__ = ("error", "result")

    def __init__(self, result: Any, error: BaseException | None) -> None:
        self.result = result
        self.error = error

    @classmethod
    def of(cls, function: Callable[[], Any]) -> _Done:
        try:
            return cls(function(), None)
        except GreenletExit:  # the greenlet is being discarded
            raise
        except BaseException as error:  # the caller's to raise
            return cls(None, error)

    def take(self) -> tuple[Any, BaseException | None]:
        taken = self.result, self.error
        self.result = self.error = None
        return taken


_IDLE = threading.local()  # a greenlet runs in the thread it was made in
KEPT = 64
"""Greenlets kept idle per thread, at most (as many run at once as functions wait at once)."""


async def run_on_loop(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` on the event loop, every awaitable it hands to
    :func:`wait_for` awaited here (in the calling task, its context shared)."""
    idle: list[_OnLoop] = _IDLE.__dict__.setdefault("greenlets", [])
    child = idle.pop() if idle else _OnLoop()
    child.gr_context = getcurrent().gr_context
    waiting = child.switch([partial(function, *args, **kwargs)])
    while not isinstance(waiting, _Done):
        try:
            value = await waiting
        except BaseException as failed:  # raised where the function waits for it
            waiting = child.throw(failed)
        else:
            waiting = child.switch(value)
    child.gr_context = None
    if len(idle) < KEPT:
        idle.append(child)
    result, error = waiting.take()
    if error is not None:
        raise error
    returned: T = result
    return returned


def on_loop() -> bool:
    """Whether the caller runs in :func:`run_on_loop` (it may :func:`wait_for`)."""
    return isinstance(getcurrent(), _OnLoop)


def wait_for(awaitable: Awaitable[T]) -> T:
    """The outcome of ``awaitable``, awaited by the task running the caller
    (:func:`run_on_loop` only)."""
    current = getcurrent()
    if not isinstance(current, _OnLoop):
        raise RuntimeError("wait_for is only for a function that run_on_loop runs")
    parent = current.parent
    assert parent is not None  # the task's greenlet, which waits for this one
    result: T = parent.switch(awaitable)
    return result
