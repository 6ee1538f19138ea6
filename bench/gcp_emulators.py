"""Google emulators for the GCP benchmarks: started together, always stopped (also on error).

Wraps tests/support/{firestore_emulator,pubsub_emulator,gcs_fake}.py (the helpers the contract
suites use). A backend whose emulator is missing, or fails to start, is left out with its reason;
the benchmark prints the reason and skips what needs it.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import REPO

if str(REPO) not in sys.path:  # tests.support lives at the repository root
    sys.path.insert(0, str(REPO))

KINDS = ("firestore", "pubsub", "gcs")


@dataclass
class Emulators:
    firestore: Any = None  # tests.support.firestore_emulator.FirestoreEmulator
    pubsub: Any = None  # tests.support.pubsub_emulator.PubsubEmulator
    gcs: Any = None  # tests.support.gcs_fake.FakeGcs
    skipped: dict[str, str] = field(default_factory=dict)  # kind -> why it is not running
    started_in_s: dict[str, float] = field(default_factory=dict)


def _module(kind: str) -> Any:
    if kind == "firestore":
        from tests.support import firestore_emulator as module
    elif kind == "pubsub":
        from tests.support import pubsub_emulator as module
    else:
        from tests.support import gcs_fake as module
    return module


@contextmanager
def running(kinds: tuple[str, ...] = KINDS) -> Iterator[Emulators]:
    """Start ``kinds`` in parallel (each start is mostly waiting on a JVM); stop them all on exit."""
    out = Emulators()
    threads = []

    def start(kind: str) -> None:
        try:
            module = _module(kind)
            reason = module.missing_reason()
            if reason:
                out.skipped[kind] = reason
                return
            emulator = module.start()
            setattr(out, kind, emulator)
            out.started_in_s[kind] = emulator.started_in_s
        except Exception as exc:  # noqa: BLE001 - reported as a skip with its reason
            out.skipped[kind] = f"did not start: {type(exc).__name__}: {str(exc)[-500:]}"

    try:
        for kind in kinds:
            thread = threading.Thread(target=start, args=(kind,), name=f"start-{kind}", daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        yield out
    finally:
        for thread in threads:  # an interrupt while starting: let the starts finish, then stop them
            thread.join(timeout=60)
        for kind in kinds:
            emulator = getattr(out, kind)
            if emulator is not None:
                try:
                    emulator.stop()
                except Exception as exc:  # noqa: BLE001 - keep stopping the others
                    print(f"  warning: stopping the {kind} emulator failed: {exc}", file=sys.stderr, flush=True)
                else:
                    Path(emulator.log).unlink(missing_ok=True)  # the helpers' temp log, ours to remove
                setattr(out, kind, None)


def describe(emulators: Emulators) -> str:
    parts = [f"{kind} up in {s:.1f} s" for kind, s in emulators.started_in_s.items()]
    parts += [f"{kind} SKIPPED ({why})" for kind, why in emulators.skipped.items()]
    return "; ".join(parts)
