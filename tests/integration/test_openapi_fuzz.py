"""schemathesis over every operation of the generated OpenAPI, against the running local
runtime with a real token and tenant: no 5xx, and every error is problem+json."""
from __future__ import annotations

import base64
import functools
import json
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from studio.kernel.openapi import build_openapi
from tests.support.api import new_tenant, new_user

ROUTES = [r for spec in manifest_mod.load().http() for r in loader.http_app(spec).table.routes]
schema = schemathesis.openapi.from_dict(build_openapi(ROUTES))


@pytest.fixture(scope="module")
def identity(platform: object) -> dict[str, str]:
    with httpx.Client(base_url=platform.base_url, timeout=30) as c:  # type: ignore[attr-defined]
        user = new_user(c, "fuzz")
        tenant = new_tenant(c, user, "Fuzz")
    return {"token": user.access_token, "tenant": tenant, "email": user.email}


def _fresh_token(base_url: str) -> str:
    with httpx.Client(base_url=base_url, timeout=30) as c:
        return new_user(c, "fuzz-logout").access_token


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors_and_problem_json(case: schemathesis.Case, platform: object, identity: dict[str, str]) -> None:
    _call_and_check(case, platform, identity)


# The shapes found by trying (docs/decisions/0021), drawn into any query parameter and any body field.
HOSTILE_QUERY_VALUES = [str(2**63), str(2**64 + 1), "9" * 5000, "²", "٣", "1_000", "NaN", "-Infinity", "1e400",
                        "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00",
                        "\x00", "x" * 10_240, base64.urlsafe_b64encode(b'["x", 18446744073709551616]').decode()]
HOSTILE_BODY_VALUES: list[Any] = [float("nan"), float("inf"), float("-inf"), 2**64, -(2**63) - 1, "²", "\x00",
                                  "x" * 10_240, functools.reduce(lambda inner, _: [inner], range(70), [])]


def flatmap_query(ctx: Any, query: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    if not query:
        return st.just(query)
    return st.fixed_dictionaries({k: st.one_of(st.just(v), st.sampled_from(HOSTILE_QUERY_VALUES))
                                  for k, v in query.items()})


def flatmap_body(ctx: Any, body: Any) -> st.SearchStrategy[Any]:
    if not isinstance(body, dict) or not body:
        return st.just(body)
    return st.tuples(st.sampled_from(sorted(body)), st.sampled_from(HOSTILE_BODY_VALUES)).map(
        lambda kv: {**body, kv[0]: kv[1]})


@pytest.mark.filterwarnings("ignore:Generating overly large repr")  # 10 KB values are the point
@schema.hooks.apply(flatmap_query)
@schema.hooks.apply(flatmap_body)
@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_hostile_shapes_get_problem_json_never_a_500(case: schemathesis.Case, platform: object,
                                                    identity: dict[str, str]) -> None:
    _call_and_check(case, platform, identity, raw_json=True)


def _send_raw_json(case: schemathesis.Case, base_url: str, headers: dict[str, str]) -> httpx.Response:
    """As the case would be sent, but with the body encoded the way a careless client does:
    requests refuses NaN and Infinity, a hostile client does not."""
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    if "json" in kwargs:
        kwargs["content"] = json.dumps(kwargs.pop("json"))  # allow_nan: NaN, Infinity on the wire
        kwargs["headers"] = {**kwargs.get("headers", {}), "Content-Type": "application/json"}
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    # Header values as the bytes a raw client puts on the wire (httpx encodes str headers as ASCII only,
    # and schemathesis draws any text for an If-None-Match); the server must answer them, never fail.
    kwargs["headers"] = {k: v.encode("utf-8") if isinstance(v, str) else v for k, v in kwargs.get("headers", {}).items()}
    known = ("method", "url", "params", "headers", "content", "data", "cookies")
    return httpx.request(**{k: v for k, v in kwargs.items() if k in known}, timeout=30)


def _call_and_check(case: schemathesis.Case, platform: object, identity: dict[str, str], *,
                    raw_json: bool = False) -> None:
    base_url = platform.base_url  # type: ignore[attr-defined]
    token = identity["token"]
    if case.operation.path in ("/auth/logout", "/auth/logout-all"):
        token = _fresh_token(base_url)  # don't end the session the other cases use
    if case.path_parameters and "tenant_id" in case.path_parameters:
        case.path_parameters["tenant_id"] = identity["tenant"]
    headers = {"Authorization": f"Bearer {token}", "X-Tenant-Id": identity["tenant"], "X-Env": "dev"}
    response = _send_raw_json(case, base_url, headers) if raw_json else case.call(base_url=base_url, headers=headers,
                                                                                   timeout=30)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
    if response.status_code >= 400:
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), response.text
        body = response.json()
        assert {"type", "title", "status", "code", "request_id"} <= set(body)
        assert body["status"] == response.status_code
