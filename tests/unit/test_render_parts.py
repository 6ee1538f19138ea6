"""A render job's part documents: names in plan order, the steps they run, and when a job still has
someone working on it (queued, retrying, leased, or a vanished worker's part still due back from the bus)."""
from __future__ import annotations

from typing import Any

import pytest

from studio.ports.store import Document
from studio.video import parts

PLAN: dict[str, Any] = {"chunks": [{"index": 0, "args": ["a"]}, {"index": 1, "args": ["b"]}], "audio": {"args": ["m"]}}


def _doc(state: str, lease_until: str | None = None, kind: str = "chunk", order: int = 0) -> Document:
    data = {"state": state, "lease_until": lease_until, "kind": kind, "order": order, "attempts": 1}
    return Document(f"x/render_parts/{order:04d}", data, 1, "", "")


def test_names_and_steps_follow_the_plan() -> None:
    assert parts.names(PLAN) == ["0000", "0001", "audio"]
    assert parts.step(PLAN, "0001")["args"] == ["b"] and parts.step(PLAN, "audio")["args"] == ["m"]
    assert parts.new_doc(PLAN, "rj_1", "audio")["order"] == 2 and parts.new_doc(PLAN, "rj_1", "0001")["kind"] == "chunk"


def test_a_job_is_live_while_a_part_waits_is_leased_or_may_come_back(monkeypatch: pytest.MonkeyPatch) -> None:
    now = "2026-01-01T00:10:00.000000Z"
    monkeypatch.setenv("STUDIO_RENDER_REDELIVERY_S", "60")
    assert parts.live([_doc("done"), _doc("queued")], now)
    assert parts.live([_doc("failed", "2026-01-01T00:00:00Z")], now)  # backing off in the bus
    assert parts.live([_doc("running", "2026-01-01T00:10:30Z")], now)  # its worker renews the lease
    assert parts.live([_doc("running", "2026-01-01T00:09:30Z")], now)  # lease out 30 s ago: may be redelivered
    assert not parts.live([_doc("running", "2026-01-01T00:08:30Z")], now)  # out 90 s ago: abandoned
    assert not parts.live([_doc("done"), _doc("done")], now)
    assert not parts.live([], now)


def test_chunk_states_leave_the_audio_mix_out() -> None:
    docs = [_doc("done", order=0), _doc("running", order=1), _doc("queued", kind="audio", order=2)]
    assert [c["index"] for c in parts.chunk_states(docs)] == [0, 1]
