"""A blocking function run on the event loop, each awaitable it hands over awaited there."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import weakref

import pytest

from gateway.storage.bridge import on_loop, run_on_loop, wait_for

REQUEST = contextvars.ContextVar("request", default="none")


def _twice(value: int) -> int:
    assert on_loop()
    first = wait_for(_later(value))
    return first + wait_for(_later(value))


async def _later(value: int) -> int:
    await asyncio.sleep(0)
    return value


def test_the_function_returns_what_its_awaited_values_make() -> None:
    assert asyncio.run(run_on_loop(_twice, 21)) == 42


def test_functions_on_one_loop_wait_at_once_not_in_turn() -> None:
    """The loop serves others while a function waits: two waits of 0.2 s take 0.2 s."""

    def slow() -> float:
        return wait_for(asyncio.sleep(0.2, result=0.2))

    async def both() -> float:
        started = asyncio.get_running_loop().time()
        await asyncio.gather(run_on_loop(slow), run_on_loop(slow))
        return asyncio.get_running_loop().time() - started

    assert asyncio.run(both()) < 0.35


def test_a_failed_wait_raises_in_the_function_which_may_handle_it() -> None:
    async def failing() -> int:
        raise LookupError("lost")

    def handled() -> str:
        try:
            wait_for(failing())
        except LookupError as error:
            return f"handled {error}"
        return "not raised"

    def unhandled() -> int:
        return wait_for(failing())

    assert asyncio.run(run_on_loop(handled)) == "handled lost"
    with pytest.raises(LookupError, match="lost"):
        asyncio.run(run_on_loop(unhandled))


def test_the_function_runs_in_the_callers_context() -> None:
    def read() -> str:
        wait_for(asyncio.sleep(0))
        return REQUEST.get()

    async def caller() -> str:
        REQUEST.set("inquiry-1")
        return await run_on_loop(read)

    assert asyncio.run(caller()) == "inquiry-1"


def test_cancelling_the_caller_cancels_the_wait_inside_the_function() -> None:
    cleaned: list[str] = []

    def waiting() -> None:
        try:
            wait_for(asyncio.sleep(10))
        finally:
            cleaned.append("finally")

    async def cancelled() -> None:
        task = asyncio.create_task(run_on_loop(waiting))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled())
    assert cleaned == ["finally"]


def test_outside_run_on_loop_there_is_nothing_to_wait_with() -> None:
    assert not on_loop()
    awaitable = _later(1)
    with pytest.raises(RuntimeError, match="run_on_loop"):
        wait_for(awaitable)
    awaitable.close()


def test_a_kept_greenlet_holds_nothing_of_the_function_it_ran() -> None:
    """What a function was given and what it returned or raised is freed once the caller drops
    it: the greenlet kept for the next function holds none of it."""

    class Held:
        pass

    references: list[weakref.ref[Held]] = []

    async def run() -> None:
        given, returned = Held(), Held()
        references.extend([weakref.ref(given), weakref.ref(returned)])

        def keeping(argument: Held) -> Held:
            wait_for(asyncio.sleep(0))
            return returned

        def failing(argument: Held) -> None:
            raise LookupError(argument)

        assert await run_on_loop(keeping, given) is returned
        with pytest.raises(LookupError):
            await run_on_loop(failing, given)

    asyncio.run(run())
    gc.collect()
    assert [reference() for reference in references] == [None, None]
