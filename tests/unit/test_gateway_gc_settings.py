"""The gateway's heap policy is chosen by STUDIO_GATEWAY_GC (decision 0104): freeze by default, the
interpreter's own thresholds with ``default``, anything else refuses to start; the freeze step is
bounded."""
from __future__ import annotations

import pytest

from studio.config import Settings


def test_the_heap_policy_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STUDIO_GATEWAY_GC", raising=False)
    monkeypatch.delenv("STUDIO_GATEWAY_GC_FREEZE_AFTER", raising=False)
    settings = Settings.from_env()
    assert (settings.gateway_gc, settings.gateway_gc_freeze_after) == ("freeze", 500)
    monkeypatch.setenv("STUDIO_GATEWAY_GC", "DEFAULT")
    assert Settings.from_env().gateway_gc == "default"


@pytest.mark.parametrize("value", ["off", "", "disable", "freeze;"])
def test_an_unknown_policy_refuses_to_start(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("STUDIO_GATEWAY_GC", value)
    with pytest.raises(ValueError, match="STUDIO_GATEWAY_GC"):
        Settings.from_env()


@pytest.mark.parametrize("value", ["0", "-5", "10000001"])
def test_the_freeze_step_is_bounded(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("STUDIO_GATEWAY_GC_FREEZE_AFTER", value)
    with pytest.raises(ValueError, match="STUDIO_GATEWAY_GC_FREEZE_AFTER"):
        Settings.from_env()


@pytest.mark.parametrize("value", ["nan", "1e3", "five hundred"])
def test_the_freeze_step_is_a_whole_number(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("STUDIO_GATEWAY_GC_FREEZE_AFTER", value)
    with pytest.raises(ValueError):
        Settings.from_env()
