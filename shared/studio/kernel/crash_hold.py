"""A test-only pause inside a keyed request, so a crash test can kill -9 the process at a known point.

tests/integration/test_crash_safety.py starts the runtime with ``STUDIO_TEST_HOLD_KEYS`` (a regular
expression over Idempotency-Key values) and ``STUDIO_TEST_HOLD_DIR``. A keyed request whose key matches
stops where the handler has returned (every effect committed with its journal) and its response is not
yet stored: it writes a marker file named by the key's SHA-256 into the directory, then sleeps. The test
waits for the marker and kills the process: the widest window a retry must heal, reached every time
rather than by timing luck. Unset (production, every other test) it costs one environment lookup.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

HOLD_S = 300.0


def marker_name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def before_reply(key: str) -> None:
    pattern = os.environ.get("STUDIO_TEST_HOLD_KEYS")
    folder = os.environ.get("STUDIO_TEST_HOLD_DIR")
    if not pattern or not folder or not re.fullmatch(pattern, key):
        return
    (Path(folder) / marker_name(key)).write_text(key)
    time.sleep(HOLD_S)
