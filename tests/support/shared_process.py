"""One emulator (or fake) process per test session, shared by every module that asks for it
and stopped after the last one is done; skipped, with the reason printed, where it is missing."""
from __future__ import annotations

import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import pytest

T = TypeVar("T")
_said: set[str] = set()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn_until_ready(name: str, args: Sequence[str], ready_url: str, *, timeout_s: float = 30.0,
                      env: Mapping[str, str] | None = None,
                      on_timeout: Callable[[subprocess.Popen[bytes]], None] | None = None,
                      ) -> tuple[subprocess.Popen[bytes], Path, float]:
    """Start ``args`` in its own session, logging to a temp file, until ``ready_url`` answers 200.
    Returns (process, log, seconds to ready); a process that dies or never answers is stopped and
    reported with the tail of its log."""
    log = Path(tempfile.mkstemp(prefix=name.lower().replace(" ", "-").replace("/", "") + "-", suffix=".log")[1])
    began = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(list(args), stdout=out, stderr=subprocess.STDOUT,  # noqa: S603 - our binaries
                                   stdin=subprocess.DEVNULL, env=dict(env) if env is not None else None,
                                   start_new_session=True)
    while time.monotonic() - began < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(ready_url, timeout=1).status_code == 200:
                return process, log, time.monotonic() - began
        except httpx.TransportError:
            pass
        time.sleep(0.03)
    if on_timeout is not None:
        on_timeout(process)
    else:
        process.kill()
        process.wait(5)
    raise RuntimeError(f"{name} did not answer within {timeout_s}s:\n{log.read_text()[-2000:]}")


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
