"""run_eagerly: a coroutine runs now up to its first suspension; the rest is awaited later."""
from __future__ import annotations

import asyncio

import pytest

from studio.realtime.eager import Unfinished, run_eagerly


def test_a_coroutine_that_never_suspends_finishes_on_the_spot() -> None:
    done: list[str] = []

    async def send(text: str) -> None:
        done.append(text)

    assert run_eagerly(send("now")) is None
    assert done == ["now"]  # no loop ran: it happened inside the call


def test_an_error_is_raised_at_the_call() -> None:
    async def send() -> None:
        raise ConnectionResetError("gone")

    with pytest.raises(ConnectionResetError):
        run_eagerly(send())


def test_a_suspended_coroutine_is_finished_by_whoever_awaits_the_rest() -> None:
    async def main() -> None:
        writable = asyncio.get_running_loop().create_future()
        steps: list[str] = []

        async def send() -> str:
            steps.append("started")
            await writable  # backpressure
            steps.append("written")
            return "ok"

        rest = run_eagerly(send())
        assert isinstance(rest, Unfinished) and steps == ["started"]
        asyncio.get_running_loop().call_later(0.01, writable.set_result, None)
        assert await rest == "ok"
        assert steps == ["started", "written"]

    asyncio.run(main())


def test_the_rest_sees_the_error_of_what_it_waited_on() -> None:
    async def main() -> None:
        writable = asyncio.get_running_loop().create_future()

        async def send() -> None:
            await writable

        rest = run_eagerly(send())
        writable.set_exception(BrokenPipeError("peer closed"))
        with pytest.raises(BrokenPipeError):
            await rest  # type: ignore[misc]

    asyncio.run(main())


def test_cancelling_the_awaiting_task_reaches_the_coroutine() -> None:
    async def main() -> None:
        cleaned: list[bool] = []

        async def send() -> None:
            try:
                await asyncio.Event().wait()
            finally:
                cleaned.append(True)

        rest = run_eagerly(send())

        async def finish() -> None:
            await rest  # type: ignore[misc]

        task = asyncio.create_task(finish())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cleaned == [True]

    asyncio.run(main())


def test_an_awaitable_that_is_not_a_coroutine_is_driven_too() -> None:
    """ASGI promises only an awaitable send: a future (or any __await__) must still be written."""
    async def main() -> None:
        writable = asyncio.get_running_loop().create_future()
        rest = run_eagerly(writable)
        assert isinstance(rest, Unfinished)
        writable.set_result("written")
        assert await rest == "written"
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        assert run_eagerly(done) is None  # already done: finished on the spot

    asyncio.run(main())
