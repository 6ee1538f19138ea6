"""The Firebase Auth emulator (npm firebase-tools), for the slow opt-in tests of the Firebase adapters.

Opt-in (STUDIO_FIREBASE_EMULATOR=1): the first run installs firebase-tools with npm (minutes), and the
emulator takes ~20 s or more to start. Set STUDIO_FIREBASE_TOOLS_DIR to an existing
``npm install --prefix`` dir to skip the install. Skipped, with the reason printed, where not opted in
or npm is missing: never silently passed.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.shared_process import free_port

OPT_IN = "STUDIO_FIREBASE_EMULATOR"


def _firebase_bin(tmp_root: Path) -> Path:
    tools = Path(os.environ.get("STUDIO_FIREBASE_TOOLS_DIR") or tmp_root / "firebase-tools")
    binary = tools / "node_modules" / ".bin" / "firebase"
    if binary.exists():
        return binary
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: cannot install firebase-tools for the Auth emulator")
    started = time.monotonic()
    done = subprocess.run(["npm", "install", "--prefix", str(tools), "--no-audit", "--no-fund", "firebase-tools"],
                          capture_output=True, text=True, timeout=900, check=False)
    print(f"npm install firebase-tools: {time.monotonic() - started:.1f}s")
    if done.returncode != 0 or not binary.exists():
        pytest.skip(f"npm could not install firebase-tools: {done.stderr[-500:]}")
    return binary


def auth_emulator_session(workdir: Path, tmp_root: Path, project: str) -> Iterator[str]:
    """Body of a fixture: yields the emulator's host ("127.0.0.1:PORT", as FIREBASE_AUTH_EMULATOR_HOST
    holds it) for ``project``, and stops it afterwards."""
    if os.environ.get(OPT_IN) != "1":
        reason = f"Firebase Auth emulator test is opt-in: set {OPT_IN}=1 (npm install + ~20 s start)"
        print(reason)
        pytest.skip(reason)
    binary = _firebase_bin(tmp_root)
    port = free_port()
    config = {"emulators": {"auth": {"host": "127.0.0.1", "port": port}, "ui": {"enabled": False},
                            "hub": {"host": "127.0.0.1", "port": free_port()},
                            "logging": {"host": "127.0.0.1", "port": free_port()}, "singleProjectMode": True}}
    (workdir / "firebase.json").write_text(json.dumps(config))
    log = (workdir / "emulator.log").open("w")
    started = time.monotonic()
    # Its own session, so stopping it reaches the emulator's node children too.
    proc = subprocess.Popen([str(binary), "emulators:start", "--only", "auth", "--project", project],
                            cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass  # not listening yet
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"auth emulator did not start: {(workdir / 'emulator.log').read_text()[-2000:]}")
            time.sleep(0.2)
        print(f"auth emulator ready in {time.monotonic() - started:.1f}s")
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # the group of the process this test started
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
