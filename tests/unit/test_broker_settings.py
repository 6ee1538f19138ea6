"""The broker is chosen in the one bootstrap from STUDIO_REALTIME_BROKER: off by default (the store's
listeners), a redis:// or rediss:// URL otherwise; anything else refuses to start."""
from __future__ import annotations

import pytest

from studio.bootstrap import Deps
from studio.config import Settings


def test_no_broker_by_default() -> None:
    assert Settings().realtime_broker == ""
    assert Deps(Settings()).broker is None


@pytest.mark.parametrize("url", ["http://x:6379", "x:6379", "redis:/x", "unix:///tmp/r.sock", " memcached://x"])
def test_a_broker_url_that_is_not_redis_refuses_to_start(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("STUDIO_REALTIME_BROKER", url)
    with pytest.raises(ValueError, match="STUDIO_REALTIME_BROKER"):
        Settings.from_env()


@pytest.mark.parametrize("value", ["0", "-1", "nan", "1e9"])
def test_the_safety_poll_is_bounded(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("STUDIO_BROKER_SAFETY_POLL_S", value)
    with pytest.raises(ValueError, match="STUDIO_BROKER_SAFETY_POLL_S"):
        Settings.from_env()


def test_a_redis_url_builds_the_redis_adapter_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_REALTIME_BROKER", "redis://127.0.0.1:1/0")  # nothing listens: it keeps retrying
    deps = Deps(Settings.from_env())
    broker = deps.broker
    try:
        assert type(broker).__name__ == "RedisBroker"
        assert deps.broker is broker  # one per instance
        broker.publish("studio:t_abc:dev:chat:th_1", b"{}")  # a dead broker: dropped, never raised
    finally:
        assert broker is not None
        broker.close()
