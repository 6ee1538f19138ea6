"""The local runtime as a separate process (``python -m infra.localrun``), to kill -9 it."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from infra.localrun.manifest import REPO
from tests.support import process_handle
from tests.support.platform import free_port


class RuntimeProcess:
    def __init__(self, data_dir: Path, *, umask: int = -1, **env: str) -> None:
        self.port = free_port()
        self.umask = umask  # -1: inherit ours
        self.base_url = f"http://127.0.0.1:{self.port}"
        # Agents answer with the echo responder (exact text) unless STUDIO_LLM is given.
        self.env = {**os.environ, "STUDIO_LLM": "echo", "PORT": str(self.port), "STUDIO_DATA_DIR": str(data_dir),
                    **env}
        self.proc: subprocess.Popen[bytes] | None = None
        # What the runtime (a fleet's parent and children) printed, quoted when it fails to start, so
        # a setup error in a long suite says why. In the nearest existing folder above the data folder:
        # never in it, and never a folder made here (the runtime makes its own, private).
        folder = next(p for p in data_dir.absolute().parents if p.is_dir())
        self.log = folder / f"runtime-{self.port}.log"

    def start(self, timeout: float = 20) -> RuntimeProcess:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "infra.localrun"], cwd=REPO, env=self.env,
                                         umask=self.umask, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"runtime exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"runtime did not become healthy in {timeout} s:\n{self.tail()}")

    def tail(self, chars: int = 4000) -> str:
        """The end of what the runtime printed (its log file)."""
        try:
            return self.log.read_bytes()[-chars:].decode(errors="replace")
        except FileNotFoundError:
            return "(no output)"

    def kill9(self) -> None:
        assert self.proc is not None
        process_handle.kill(self.proc)

    def stop(self) -> None:
        process_handle.stop(self.proc)
