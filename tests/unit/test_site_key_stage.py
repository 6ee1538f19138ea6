"""The kernel's site-key stage runs after the per-IP rate limit: a client guessing keys is throttled
like any other anonymous caller before each guess costs a store read. The pipeline is the real HttpApp
on a real SQLite store; only the route is the test's own."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from werkzeug.test import Client
from werkzeug.wrappers import Request

from studio.adapters.sqlite_store import SqliteStore
from studio.kernel.call import Call
from studio.kernel.http_app import HttpApp
from studio.kernel.ratelimit import RateLimiter
from studio.kernel.routing import Router
from studio.kernel.site_keys import KeyPlace, OriginRule, SiteKeyGrant, SiteKeyRule


@dataclass
class Deps:
    store: SqliteStore
    rate_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(60, burst=3))
    settings: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(cors_origins=(), trusted_proxy_hops=0))


def test_unknown_keys_from_one_client_are_rate_limited_before_they_are_looked_up(tmp_path: Path) -> None:
    deps = Deps(SqliteStore(tmp_path / "store.db"))
    router = Router("probe")

    @router.site_key("GET", "/probe", rule=SiteKeyRule("probe.read", KeyPlace.QUERY))
    def probe(call: Call) -> Any:
        return {"tenant": call.need_site_key().tenant_id}

    app = HttpApp("probe", [router], lambda: deps)
    client = Client(lambda environ, start_response: app(Request(environ))(environ, start_response))
    statuses = [client.get(f"/probe?key=pk_{i:020d}").status_code for i in range(6)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429, 429], statuses


def _origins_app(tmp_path: Path) -> Client:
    deps = Deps(SqliteStore(tmp_path / "store.db"))
    router = Router("probe")

    def origins(deps: Any, grant: SiteKeyGrant) -> OriginRule:
        return OriginRule(("https://shop.example",))

    @router.site_key("POST", "/probe", rule=SiteKeyRule("probe.write", KeyPlace.QUERY, origins=origins))
    def probe(call: Call) -> Any:
        return {"tenant": call.need_site_key().tenant_id}

    app = HttpApp("probe", [router], lambda: deps)
    return Client(lambda environ, start_response: app(Request(environ))(environ, start_response))


def test_preflights_with_guessed_keys_are_rate_limited_before_the_key_is_looked_up(tmp_path: Path) -> None:
    client = _origins_app(tmp_path)
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    answers = [client.options(f"/probe?key=pk_{i:020d}", headers=headers) for i in range(6)]
    assert [a.status_code for a in answers] == [403, 403, 403, 429, 429, 429]  # an unlisted origin: refused
    limited = answers[-1]
    assert limited.headers["Content-Type"].startswith("application/problem+json")
    assert limited.json["code"] == "RATE_LIMITED"
    assert "Retry-After" in limited.headers


def test_a_browser_request_to_a_site_key_route_costs_one_token_not_two(tmp_path: Path) -> None:
    client = _origins_app(tmp_path)
    statuses = [client.post(f"/probe?key=pk_{i:020d}", headers={"Origin": "https://evil.example"}).status_code
                for i in range(6)]
    assert statuses == [401, 401, 401, 429, 429, 429]
