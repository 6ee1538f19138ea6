"""A real Redis (or Valkey) server for the broker tests: Debian's redis-server / valkey-server
(infra/install-broker.sh), on a free loopback port, no persistence. Stoppable and restartable on
the same port, so a test can kill the broker mid-stream and bring it back."""
from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.support import process_handle
from tests.support.shared_process import free_port


def server_binary() -> str | None:
    return shutil.which("valkey-server") or shutil.which("redis-server")


class RedisServer:
    def __init__(self) -> None:
        binary = server_binary()
        if binary is None:
            pytest.skip("no redis-server or valkey-server: run `bash infra/install-broker.sh` (Debian: apt-get install "
                        "redis-server)")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10) -> RedisServer:
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.binary} exited with {self.proc.returncode}")
                try:
                    if client.ping():
                        return self
                except (redis.RedisError, OSError):
                    time.sleep(0.05)
        finally:
            client.close()
        raise RuntimeError(f"{self.binary} did not answer on {self.port}")

    def kill(self) -> None:
        """kill -9: the broker is gone with everything it held (a failover without a replica)."""
        process_handle.kill(self.proc)

    def stop(self) -> None:
        process_handle.stop(self.proc)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()
