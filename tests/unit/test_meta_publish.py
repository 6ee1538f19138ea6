"""The meta channel's publishing API: one event shape on the ``realtime.meta`` topic, kinds
named ``<capability>.<what>``, small finite payloads (real SQLite bus)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.adapters.sqlite_bus import SqliteBus
from studio.kernel import errors
from studio.kernel.meta import MAX_BYTES, TOPIC, publish_meta


def test_publish_puts_one_tenant_scoped_event_on_the_topic(tmp_path: Path) -> None:
    bus = SqliteBus(tmp_path / "bus.db")
    bus.subscribe("probe", TOPIC)
    publish_meta(bus, "t_abc", "dev", "render.progress", {"job": "r1", "percent": 5})
    [delivery] = bus.pull("probe", 10)
    body = json.loads(delivery.message.data)
    assert {k: body[k] for k in ("type", "tenant_id", "env", "data")} == {
        "type": "render.progress", "tenant_id": "t_abc", "env": "dev", "data": {"job": "r1", "percent": 5}}
    assert body["id"].startswith("mt_") and delivery.message.attributes == {
        "tenant": "t_abc", "env": "dev", "type": "render.progress"}


def test_kinds_and_payloads_are_checked(tmp_path: Path) -> None:
    bus = SqliteBus(tmp_path / "bus.db")
    for kind in ("progress", "Render.Progress", "render.", "render progress"):
        with pytest.raises(ValueError):
            publish_meta(bus, "t_abc", "dev", kind, {})
    with pytest.raises(ValueError):
        publish_meta(bus, "t_abc", "dev", "render.progress", {"percent": float("nan")})
    with pytest.raises(errors.StudioError) as big:
        publish_meta(bus, "t_abc", "dev", "render.progress", {"blob": "x" * MAX_BYTES})
    assert big.value.code is errors.PAYLOAD_TOO_LARGE
