"""schemathesis over every operation of the generated OpenAPI, against the running local
runtime with a real token and tenant: no 5xx, and every error is problem+json."""
from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

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
    base_url = platform.base_url  # type: ignore[attr-defined]
    token = identity["token"]
    if case.operation.path in ("/auth/logout", "/auth/logout-all"):
        token = _fresh_token(base_url)  # don't end the session the other cases use
    if case.path_parameters and "tenant_id" in case.path_parameters:
        case.path_parameters["tenant_id"] = identity["tenant"]
    headers = {"Authorization": f"Bearer {token}", "X-Tenant-Id": identity["tenant"], "X-Env": "dev"}
    response = case.call(base_url=base_url, headers=headers, timeout=30)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
    if response.status_code >= 400:
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), response.text
        body = response.json()
        assert {"type", "title", "status", "code", "request_id"} <= set(body)
        assert body["status"] == response.status_code
