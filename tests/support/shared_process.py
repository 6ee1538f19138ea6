"""One emulator (or fake) process per test session, shared by every module that asks for it
and stopped after the last one is done; skipped, with the reason printed, where it is missing."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

import pytest

T = TypeVar("T")
_said: set[str] = set()


def say(config: pytest.Config, line: str) -> None:
    """Write past output capture (once per line), so a skip reason or a start time shows in a quiet run."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or line in _said:
        return
    _said.add(line)
    if capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)
    else:
        reporter.write_line(line)


class SharedProcess(Generic[T]):
    def __init__(self, name: str, start: Callable[[], T], missing_reason: Callable[[], str | None]) -> None:
        self.name = name
        self._start = start
        self._missing_reason = missing_reason
        self._lock = threading.Lock()
        self._instance: Any = None
        self._users = 0

    def session(self, config: pytest.Config) -> Iterator[T]:
        """Body of a session fixture: yields the shared process, or skips with the reason printed."""
        reason = self._missing_reason()
        if reason:
            say(config, f"SKIPPED ({self.name}): {reason}")
            pytest.skip(reason)
        with self._lock:
            if self._instance is None:
                self._instance = self._start()
                say(config, f"{self.name} up in {self._instance.started_in_s:.2f} s")
            self._users += 1
            instance: T = self._instance
        try:
            yield instance
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    self._instance = None
                    instance.stop()  # type: ignore[attr-defined]
