"""Governance's pure rules: which switch matches a request, which licence covers it, prices, periods,
and how corridors clamp (the services around them are tested over HTTP in tests/integration)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from studio.governance import prices
from studio.governance.budgets import period_key, provider_of
from studio.governance.corridors import _into, corridor_id
from studio.governance.gates import GateRequest, Subject
from studio.governance.kill_switches import _matches
from studio.governance.licences import covers, status_of
from studio.kernel.roles import Role

NOW = "2026-06-01T00:00:00.000000Z"


def _req(**kw: object) -> GateRequest:
    base: dict[str, object] = {"tenant_id": "t_abc", "env": "dev", "subject": Subject("agent", "muse", Role.MEMBER),
                               "action": "tool.invoke", "tool": "chat.post_message", "tool_version": "1.2.0",
                               "danger": "low", "provider": "gemini", "model": "gemini-1.5-flash", "agent_id": "muse"}
    return GateRequest(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "target", "hit"), [
    ("tool", "chat.post_message", True), ("tool", "chat.post_message@1.2.0", True),
    ("tool", "chat.post_message@1.1.0", False), ("tool", "chat.delete_thread", False), ("tool", "*", True),
    ("provider", "gemini", True), ("provider", "openai-compatible", False), ("model", "gemini-1.5-flash", True),
    ("agent", "muse", True), ("agent", "scribe", False), ("action", "tool.invoke", True),
    ("action", "model.call", False), ("action", "*", True),
])
def test_switch_matching(kind: str, target: str, hit: bool) -> None:
    assert _matches({"target_kind": kind, "target": target}, _req()) is hit


def test_a_switch_on_a_missing_field_never_matches() -> None:
    assert not _matches({"target_kind": "tool", "target": "*"}, _req(tool=None, tool_version=None))
    assert not _matches({"target_kind": "agent", "target": "*"}, _req(agent_id=None))


@pytest.mark.parametrize(("danger", "tool_required", "needs"), [
    ("none", False, False), ("low", False, False), ("high", False, True), ("critical", False, True),
    ("none", True, True)])
def test_when_a_licence_is_needed(danger: str, tool_required: bool, needs: bool) -> None:
    assert _req(danger=danger, licence_required=tool_required).needs_licence is needs


def _licence(**kw: object) -> dict[str, object]:
    return {"tools": [], "danger": None, "expires_at": "2027-01-01T00:00:00.000000Z", "revoked_at": None, **kw}


def test_licence_coverage() -> None:
    by_tool = _licence(tools=["chat.delete_thread"])
    assert covers(by_tool, "chat.delete_thread", "1.0.0", "critical", NOW)
    assert not covers(by_tool, "tenant.rename", "1.0.0", "low", NOW)
    pinned = _licence(tools=["chat.delete_thread@2.0.0"])
    assert covers(pinned, "chat.delete_thread", "2.0.0", "high", NOW)
    assert not covers(pinned, "chat.delete_thread", "2.1.0", "high", NOW)
    high = _licence(danger="high")
    assert covers(high, "x", None, "low", NOW) and covers(high, "x", None, "high", NOW)
    assert not covers(high, "x", None, "critical", NOW)
    assert not covers(_licence(danger="critical", expires_at=NOW), "x", None, "low", NOW)  # expiry is exclusive
    assert not covers(_licence(danger="critical", revoked_at=NOW), "x", None, "low", NOW)
    assert status_of(_licence(revoked_at=NOW), NOW) == "revoked"
    assert status_of(_licence(expires_at="2020-01-01T00:00:00Z"), NOW) == "expired"


def test_prices() -> None:
    assert prices.price_of("echo", "anything").cost(10_000, 10_000) == 0.0
    assert prices.price_of("local", None).cost(10_000, 10_000) == 0.0
    assert prices.price_of("openai-compatible", "gpt-4o").cost(1000, 1000) == pytest.approx(0.0125)
    unknown = prices.price_of("gemini", "gemini-9-ultra")  # priced as the provider's dearest listed model
    assert unknown == prices.PRICES[("gemini", "gemini-1.5-pro")]
    assert prices.estimate_usd("openai-compatible", "gpt-4o-mini", 1000, 1000) == pytest.approx(0.00075)


def test_periods_and_providers() -> None:
    at = datetime(2026, 3, 9, 23, 59, tzinfo=UTC)
    assert (period_key("day", at), period_key("month", at), period_key("total", at)) == ("2026-03-09", "2026-03", "all")
    assert provider_of(None) == "tools" and provider_of("gemini") == "gemini"


def test_corridor_clamping() -> None:
    corridor = {"floor": 0.2, "ceiling": 0.8}
    assert (_into(0.1, corridor), _into(0.5, corridor), _into(1.5, corridor)) == (0.2, 0.5, 0.8)
    assert _into(1.5, None) == 1.5
    assert (corridor_id(None), corridor_id("muse")) == ("tenant", "agent.muse")
