"""The real local runtime, served by uvicorn on a loopback port, for integration tests."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from infra.localrun.manifest import MANIFEST
from infra.localrun.server import LocalPlatform, build
from studio.bootstrap import reset
from studio.config import Settings
from studio.kernel.http_limits import HttpLimits
from studio.kernel.http_server import server_options
from tests.support.shared_process import free_port


def serve_in_thread(app: Any, port: int, **config: Any) -> tuple[uvicorn.Server, threading.Thread]:
    """uvicorn serving ``app`` on 127.0.0.1:``port`` in a daemon thread, returned once it listens."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           proxy_headers=False, **config))  # as `make serve` runs it
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return server, thread


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
    """The runtime on a free port. Agents answer with the echo responder (exact text, on a timer) unless
    ``llm=`` says otherwise: only the local model's own tests pay for the real model."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings.setdefault("llm", "echo")
    config = Settings(data_dir=data_dir, public_url=base_url, **settings)  # type: ignore[arg-type]
    reset()
    platform = build(config, manifest)
    server, thread = serve_in_thread(platform.app, port, timeout_graceful_shutdown=1, ws_per_message_deflate=False,
                                     **server_options(HttpLimits()))  # bounded as `make serve` serves it
    return RunningPlatform(platform, base_url, server, thread)
