"""Google's Pub/Sub emulator for the test session: started once on a free port, stopped at the end.

Test modules share one process through ``emulator_session`` (reference-counted, so several modules
with session fixtures still start one emulator). Where the emulator or Java is missing the tests
are skipped with the reason written to the terminal: never silently passed. Each test isolates
itself with its own resource-name prefix rather than a restart (the emulator has no reset call).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import process_handle
from tests.support.shared_process import SharedProcess, free_port, spawn_until_ready

EMULATOR = Path(os.environ.get(
    "PUBSUB_EMULATOR_BIN", "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator"))
HOST_ENV = "PUBSUB_EMULATOR_HOST"


def missing_reason() -> str | None:
    if not EMULATOR.exists():
        return f"Pub/Sub emulator not installed: {EMULATOR} is missing (google-cloud-cli's pubsub-emulator)"
    if not list(EMULATOR.parent.parent.glob("lib/cloud-pubsub-emulator-*.jar")):
        return f"Pub/Sub emulator jar missing under {EMULATOR.parent.parent / 'lib'}"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "Pub/Sub emulator needs Java: no `java` on PATH and no JAVA_HOME"
    return None



class PubsubEmulator:
    def __init__(self, process: subprocess.Popen[bytes], host: str, log: Path, started_in_s: float) -> None:
        self.process = process
        self.host = host  # "127.0.0.1:PORT", what PUBSUB_EMULATOR_HOST holds
        self.log = log
        self.started_in_s = started_in_s

    def clients(self) -> tuple[Any, Any]:
        """(publisher, subscriber) bound to this emulator, configured as PubsubBus makes its own.
        The clients read PUBSUB_EMULATOR_HOST in their constructors only: set it just for that."""
        from google.cloud import pubsub_v1

        previous = os.environ.get(HOST_ENV)
        os.environ[HOST_ENV] = self.host
        try:
            publisher = pubsub_v1.PublisherClient(
                batch_settings=pubsub_v1.types.BatchSettings(max_latency=0.001),
                publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True))
            return publisher, pubsub_v1.SubscriberClient()
        finally:
            if previous is None:
                del os.environ[HOST_ENV]
            else:
                os.environ[HOST_ENV] = previous

    def stop(self) -> None:
        process_handle.stop(self.process)  # the launcher script execs java: this is the JVM's pid


def start(timeout_s: float = 30.0) -> PubsubEmulator:
    port = free_port()
    host = f"127.0.0.1:{port}"
    process, log, took = spawn_until_ready(  # answers "Ok" at / once ready
        "Pub/Sub emulator", [str(EMULATOR), "--host=127.0.0.1", f"--port={port}"], f"http://{host}/",
        timeout_s=timeout_s)
    return PubsubEmulator(process, host, log, took)


_shared = SharedProcess("Pub/Sub emulator", start, missing_reason)


def emulator_session(config: pytest.Config) -> Iterator[PubsubEmulator]:
    """Body of a session fixture: yields the shared emulator, or skips with the reason printed."""
    yield from _shared.session(config)

