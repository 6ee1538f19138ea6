"""The real local runtime, served by uvicorn on a loopback port, for integration tests."""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from infra.localrun.manifest import MANIFEST
from infra.localrun.server import LocalPlatform, build
from studio.bootstrap import reset
from studio.config import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningPlatform:
    platform: LocalPlatform
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def deps(self):  # noqa: ANN201 - studio.bootstrap.Deps
        return self.platform.deps

    def drain(self) -> None:
        """Relay the outbox and deliver every due message now (deterministic tests)."""
        self.platform.delivery.run_until_idle()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        reset()


def start_platform(data_dir: Path, manifest: Path = MANIFEST, **settings: object) -> RunningPlatform:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = Settings(data_dir=data_dir, public_url=base_url, **settings)  # type: ignore[arg-type]
    reset()
    platform = build(config, manifest)
    server = uvicorn.Server(uvicorn.Config(platform.app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", timeout_graceful_shutdown=1,
                                           ws_per_message_deflate=False))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("local runtime did not start")
        time.sleep(0.01)
    return RunningPlatform(platform, base_url, server, thread)
