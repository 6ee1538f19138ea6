"""``STUDIO_GATEWAY_PROCESSES=N make serve``: the runtime as N processes behind one port
(docs/decisions/0071-gateway-fleet-on-one-machine.md).

The parent binds the port once and starts N children that share the listening socket, so the
kernel spreads connections over them, as uvicorn's own workers do. Each child is the whole
runtime (functions and gateway, each with its own feeds) on the same data folder, with
cross-process wake-ups on, so a write in any process reaches every other's listeners at once.
Only child 0 runs event delivery (the outbox relay and the bus's push to event functions): one
relay per data folder, as there is one per project in production. Each child also listens on a
port of its own and writes ``<data>/fleet/<index>.json`` (pid, port), so a test can reach, or
kill, one chosen instance.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ENV_PROCESSES = "STUDIO_GATEWAY_PROCESSES"
ENV_FD = "STUDIO_GATEWAY_FD"
ENV_INDEX = "STUDIO_GATEWAY_INDEX"


def processes() -> int:
    value = int(os.environ.get(ENV_PROCESSES, "1") or "1")
    if not 1 <= value <= 64:
        raise SystemExit(f"{ENV_PROCESSES} must be between 1 and 64, got {value}")
    return value


def member() -> tuple[int, socket.socket] | None:
    """In a child of the fleet: its index and the shared listening socket."""
    fd = os.environ.get(ENV_FD)
    if fd is None:
        return None
    return int(os.environ[ENV_INDEX]), socket.socket(fileno=int(fd))


def own_socket(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def record(data_dir: Path, index: int, port: int) -> None:
    folder = data_dir / "fleet"
    folder.mkdir(mode=0o700, exist_ok=True)
    tmp = folder / f".{index}.json"
    tmp.write_text(json.dumps({"index": index, "pid": os.getpid(), "port": port}))
    tmp.replace(folder / f"{index}.json")


def members(data_dir: Path) -> list[dict[str, Any]]:
    folder = data_dir / "fleet"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("[0-9]*.json"))] if folder.is_dir() else []


def run_parent(count: int, host: str, port: int) -> None:
    """Bind once, start ``count`` children on the socket, and stop them all when stopped."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(2048)
    listener.set_inheritable(True)
    children = []
    for index in range(count):
        env = {**os.environ, ENV_FD: str(listener.fileno()), ENV_INDEX: str(index),
               "STUDIO_CROSS_PROCESS_WAKE": "1", "STUDIO_FLEET_PRESENCE": "1"}
        children.append(subprocess.Popen([sys.executable, "-m", "infra.localrun"], env=env,
                                         pass_fds=(listener.fileno(),)))
    print(f"gateway fleet: {count} processes on {host}:{port} (pids {', '.join(str(c.pid) for c in children)})",
          flush=True)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        # A child that dies stays dead: its clients reconnect to the others (what the fleet is for).
        while any(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        listener.close()
