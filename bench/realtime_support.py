"""What the realtime benchmarks share: the gateway in its own process, its resident memory,
a user + tenant + threads made over HTTP, and a cheap server-sent-events block parser."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench import REPO
from bench.common import free_port
from bench.realtime_server import raise_nofile

__all__ = ["Gateway", "Session", "no_agent_manifest", "proc_status_kib", "raise_nofile", "sse_blocks", "session"]

MANIFEST = REPO / "functions" / "manifest.yaml"


def no_agent_manifest(directory: Path) -> Path:
    """functions/manifest.yaml minus agent_pipeline (derived on each run, so it never drifts)."""
    data = yaml.safe_load(MANIFEST.read_text())
    data["functions"] = [f for f in data["functions"] if f["name"] != "agent_pipeline"]
    path = directory / "manifest-no-agent.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def proc_status_kib(pid: int, field: str = "VmRSS") -> int:
    """A ``/proc/<pid>/status`` figure in KiB (VmRSS: resident now; VmHWM: its peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


class Gateway:
    """``python -m bench.realtime_server`` in its own process, on a loopback port (on ``cpus`` if given)."""

    def __init__(self, data_dir: Path, manifest: Path, cpus: set[int] | None = None, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log_path = data_dir / "gateway.log"
        child_env = {**os.environ, "PORT": str(self.port), "STUDIO_DATA_DIR": str(data_dir / "data"),
                     "STUDIO_PUBLIC_URL": self.base_url, "STUDIO_RATE_LIMIT_PER_MINUTE": "100000000",
                     # the benchmarks' thousands of subscribers are one user (each browser would be one)
                     "STUDIO_STREAMS_PER_USER": "100000000",
                     "PYTHONPATH": str(REPO / "shared"), **env}
        child_env.pop("STUDIO_MANIFEST", None)
        self._log = self.log_path.open("wb")
        pin = ["--cpus", ",".join(map(str, sorted(cpus)))] if cpus else []
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.realtime_server", "--manifest", str(manifest), *pin],
                                     cwd=REPO, env=child_env, stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the gateway exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the gateway did not start: {self.log_tail()}")
            time.sleep(0.05)

    def rss_kib(self) -> int:
        return proc_status_kib(self.pid)

    def cpu_s(self) -> float:
        """User + system CPU seconds the gateway process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        problems = [ln for ln in text if '"severity": "ERROR"' in ln or "Traceback" in ln or "Error" in ln]
        return "\n".join((problems or text)[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


@dataclass
class Session:
    """An owner signed in, their tenant, and the headers a realtime client sends."""

    user_id: str
    tenant_id: str
    headers: dict[str, str]

    def new_thread(self, client: httpx.Client, title: str = "bench") -> str:
        r = client.post("/chat/threads", json={"title": title}, headers=self.headers)
        if r.status_code != 201:
            raise RuntimeError(f"POST /chat/threads answered {r.status_code}: {r.text[:300]}")
        return str(r.json()["id"])


def session(client: httpx.Client, prefix: str = "bench-rt") -> Session:
    from tests.support.api import new_tenant, new_user

    owner = new_user(client, prefix)
    tenant_id = new_tenant(client, owner)
    return Session(owner.user_id, tenant_id, owner.in_tenant(tenant_id))


def sse_blocks(buffer: str) -> tuple[list[tuple[str, Any]], str]:
    """Complete events in ``buffer`` as (event type, parsed data), and the unparsed rest."""
    out: list[tuple[str, Any]] = []
    *blocks, rest = buffer.split("\n\n")
    for block in blocks:
        kind, data = "message", None
        for line in block.split("\n"):
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data = json.loads(line[5:])
        if data is not None:
            out.append((kind, data))
    return out, rest
