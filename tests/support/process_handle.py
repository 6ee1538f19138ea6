"""Ending a process a test started (a runtime, a redis-server, an emulator): at once with kill -9,
or politely with SIGTERM and kill -9 only if it lingers. Both do nothing to a process already gone."""
from __future__ import annotations

import subprocess


def kill(proc: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    """kill -9 and reap: the process is gone with everything it held, nothing flushed."""
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(timeout=timeout)


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    """SIGTERM, then kill -9 if it has not exited within ``timeout`` seconds."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill(proc, timeout)
