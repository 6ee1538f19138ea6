"""Run a coroutine synchronously until it first suspends.

The fan-out writes one frame to each of a thousand sockets per event. Waking a task per
subscriber for that cost more than the write itself, so the feed calls the connection's
ASGI ``send`` on the spot: it finishes without suspending unless the transport applies
backpressure. When it does suspend, what is left comes back as an awaitable for the
connection's own task to finish (what Python 3.12's eager tasks do; we run on 3.11).
"""
from __future__ import annotations

from collections.abc import Awaitable, Coroutine, Generator
from types import CoroutineType
from typing import Any


class Unfinished:
    """The rest of a coroutine that suspended in ``run_eagerly``: await it once to finish it."""

    __slots__ = ("_coro", "_yielded")

    def __init__(self, coro: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self._coro = coro
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self._coro, self._yielded
        while True:
            try:
                sent = yield value  # the future it waits on, handed to the awaiting task
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - cancellation and the like go to the coroutine
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                value = coro.send(sent)
            except StopIteration as stop:
                return stop.value

    def close(self) -> None:
        self._coro.close()


def run_eagerly(awaitable: Awaitable[Any]) -> Unfinished | None:
    """Run ``awaitable`` now. None when it finished; otherwise the unfinished rest. Its exceptions
    are raised here, as a plain call's would be. ASGI promises an awaitable ``send``: servers give a
    coroutine (driven as is); anything else is driven through one."""
    coro = awaitable if isinstance(awaitable, CoroutineType) else _awaited(awaitable)
    try:
        yielded = coro.send(None)
    except StopIteration:
        return None
    return Unfinished(coro, yielded)


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
