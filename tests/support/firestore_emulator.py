"""Google's Firestore emulator for the test session: started once on a free port, stopped at the end.

Test modules share one process through ``emulator_session`` (reference-counted, so two modules with
session fixtures still start one emulator). Where the binary or Java is missing the tests are
skipped with the reason written to the terminal: never silently passed.
"""
from __future__ import annotations

import atexit
import base64
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.shared_process import SharedProcess, free_port, spawn_until_ready

EMULATOR = Path(os.environ.get(
    "FIRESTORE_EMULATOR_BIN",
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator"))
ADMIN = "owner"  # the emulator's bearer token that bypasses security rules


def missing_reason() -> str | None:
    if not EMULATOR.exists():
        return f"Firestore emulator not installed: {EMULATOR} is missing (google-cloud-cli's cloud-firestore-emulator)"
    if not EMULATOR.with_name("cloud-firestore-emulator.jar").exists():
        return f"Firestore emulator jar missing next to {EMULATOR}"
    java = os.environ.get("JAVA", "java")  # what the launcher script runs
    if not shutil.which(java):
        return f"Firestore emulator needs Java 17+: {java!r} not found (set JAVA or install a JRE)"
    return None



class FirestoreEmulator:
    def __init__(self, process: subprocess.Popen[bytes], host: str, log: Path, started_in_s: float) -> None:
        self.process = process
        self.host = host  # "127.0.0.1:PORT", what FIRESTORE_EMULATOR_HOST would hold
        self.log = log
        self.started_in_s = started_in_s
        self.stopped = False
        self.http = httpx.Client(base_url=f"http://{host}", timeout=10)

    def client(self, project: str) -> Any:
        """A google Firestore client bound to this emulator. The client reads FIRESTORE_EMULATOR_HOST
        only in its constructor, so the variable is set for that call and restored at once."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import firestore

        previous = os.environ.get("FIRESTORE_EMULATOR_HOST")
        os.environ["FIRESTORE_EMULATOR_HOST"] = self.host
        try:
            return firestore.Client(project=project, credentials=AnonymousCredentials())
        finally:
            if previous is None:
                del os.environ["FIRESTORE_EMULATOR_HOST"]
            else:
                os.environ["FIRESTORE_EMULATOR_HOST"] = previous

    def wipe(self, project: str) -> None:
        """Delete every document of ``project`` (the emulator's own reset endpoint)."""
        r = self.http.delete(f"/emulator/v1/projects/{project}/databases/(default)/documents")
        r.raise_for_status()

    def load_rules(self, project: str, path: Path) -> None:
        body = {"rules": {"files": [{"name": path.name, "content": path.read_text()}]}}
        r = self.http.put(f"/emulator/v1/projects/{project}:securityRules", json=body)
        if r.status_code != 200:
            raise AssertionError(f"rules did not load ({r.status_code}): {r.text}")

    def stop(self) -> None:
        """Stop the whole process group: the launcher is a bash script whose java child would
        survive a signal sent to the script alone."""
        if self.stopped:
            return
        self.stopped = True
        self.http.close()
        group = self.process.pid  # start_new_session: the group id is the launcher's pid
        for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline and _group_alive(group):
                self.process.poll()  # reap the launcher
                time.sleep(0.05)
            if not _group_alive(group):
                break
        self.process.poll()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def start(timeout_s: float = 30.0) -> FirestoreEmulator:
    port = free_port()
    host = f"127.0.0.1:{port}"
    process, log, took = spawn_until_ready(  # answers "Ok" at / once ready
        "Firestore emulator", [str(EMULATOR), "--host", "127.0.0.1", "--port", str(port)], f"http://{host}/",
        timeout_s=timeout_s, on_timeout=lambda p: FirestoreEmulator(p, host, Path(os.devnull), 0).stop())
    emulator = FirestoreEmulator(process, host, log, took)
    atexit.register(emulator.stop)  # a safety net if the session ends without teardown
    return emulator


_shared = SharedProcess("Firestore emulator", start, missing_reason)


def emulator_session(config: pytest.Config) -> Iterator[FirestoreEmulator]:
    """Body of a session fixture: yields the shared emulator, or skips with the reason printed."""
    yield from _shared.session(config)


def unsigned_id_token(uid: str, project: str, **claims: Any) -> str:
    """A Firebase ID token with ``alg: none``: the emulator accepts it as ``request.auth``."""
    now = int(time.time())
    payload = {"iss": f"https://securetoken.google.com/{project}", "aud": project, "auth_time": now,
               "iat": now, "exp": now + 3600, "sub": uid, "user_id": uid,
               "firebase": {"sign_in_provider": "custom", "identities": {}}, **claims}

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."
