"""Which origins the CORS policy admits (kernel/cors.py), and where its patterns come from."""
from __future__ import annotations

import pytest

from studio.config import Settings
from studio.kernel import cors


@pytest.mark.parametrize(("pattern", "admitted", "refused"), [
    ("https://app.example.com", ["https://app.example.com"],
     ["http://app.example.com", "https://app.example.com:8443", "https://evil.app.example.com",
      "https://app.example.com.evil.io", "https://app-example.com"]),
    ("https://app.example.com:443", ["https://app.example.com"], ["https://app.example.com:444"]),
    ("http://localhost:*", ["http://localhost:5173", "http://localhost:3000", "http://localhost"],
     ["https://localhost:5173", "http://localhost.evil.io:5173", "http://127.0.0.1:5173", "http://localhostx:1"]),
    ("https://*.example.com", ["https://a.example.com", "https://a.b.example.com"],
     ["https://example.com", "https://a.example.com:8443", "https://aexample.com", "https://a.example.co"]),
    ("http://[::1]:*", ["http://[::1]:8080"], ["http://[::2]:8080"]),
    ("*", ["https://anything.example", "http://localhost:1"], ["null", ""]),
])
def test_patterns_admit_exactly_their_origins(pattern: str, admitted: list[str], refused: list[str]) -> None:
    policy = cors.policy((pattern,))
    for origin in admitted:
        assert policy.allows(origin), origin
    for origin in refused:
        assert not policy.allows(origin), origin


@pytest.mark.parametrize("bad", ["localhost:3000", "https://app.example.com/path", "ftp://x.example",
                                 "https://*", "https://a.*.example.com", "http://localhost:99999999",
                                 "https://exa mple.com"])
def test_a_malformed_pattern_is_refused_at_startup(bad: str) -> None:
    with pytest.raises(ValueError, match="STUDIO_CORS_ORIGINS"):
        cors.parse_origins(bad)


def test_no_pattern_admits_nobody_and_the_opaque_origin_is_never_admitted() -> None:
    assert not cors.policy(()).allows("http://localhost:5173")
    assert not cors.policy(cors.LOOPBACK_ORIGINS).allows("null")


def test_settings_allow_any_loopback_port_locally_and_nothing_on_gcp_unless_configured(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STUDIO_CORS_ORIGINS", raising=False)
    monkeypatch.setenv("STUDIO_ADAPTERS", "embedded")
    local = cors.policy(Settings.from_env().cors_origins)
    assert local.allows("http://localhost:5173") and local.allows("http://127.0.0.1:4200")
    assert not local.allows("https://app.example.com")
    monkeypatch.setenv("STUDIO_ADAPTERS", "gcp")
    assert Settings.from_env().cors_origins == ()
    monkeypatch.setenv("STUDIO_CORS_ORIGINS", "https://app.example.com, https://*.preview.example.com")
    deployed = cors.policy(Settings.from_env().cors_origins)
    assert deployed.allows("https://app.example.com") and deployed.allows("https://pr-7.preview.example.com")
    assert not deployed.allows("http://localhost:5173")
    monkeypatch.setenv("STUDIO_CORS_ORIGINS", "app.example.com")
    with pytest.raises(ValueError):
        Settings.from_env()
