"""The local runtime itself: health, OpenAPI, docs, unknown routes, storage-finalize delivery."""
from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from infra.localrun.manifest import REPO
from studio import domains
from studio.bootstrap import Deps
from studio.config import Settings
from tests.support.runtime_process import RuntimeProcess


def test_health_openapi_and_docs(client: httpx.Client) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200 and "identity" in health.json()["functions"]
    assert client.get("/healthz/identity").json() == {"status": "ok", "function": "identity"}
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert {"/auth/signup", "/tenants/{tenant_id}", "/commands"} <= set(doc["paths"])
    codes = {c["code"] for c in doc["x-error-codes"]}
    assert codes == set(domains.error_codes())  # the kernel's and every domain's
    assert set(doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]) == codes
    assert doc["paths"]["/auth/signup"]["post"]["security"] == []
    assert "X-Tenant-Id" in {p["name"] for p in doc["paths"]["/tenants/{tenant_id}"]["get"]["parameters"]}
    assert "openapi.json" in client.get("/docs").text


def test_unknown_route_and_method_are_problems(client: httpx.Client) -> None:
    missing = client.get("/no/such/thing")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    wrong = client.put("/auth/login", json={})
    assert wrong.status_code == 405 and wrong.json()["code"] == "METHOD_NOT_ALLOWED"


def test_request_id_is_echoed_or_minted(client: httpx.Client) -> None:
    mine = client.get("/.well-known/jwks.json", headers={"X-Request-Id": "req-12345678"})
    assert mine.headers["x-request-id"] == "req-12345678"
    minted = client.get("/.well-known/jwks.json", headers={"X-Request-Id": "bad id with spaces"})
    assert len(minted.headers["x-request-id"]) == 32


def test_oversized_and_non_json_bodies(client: httpx.Client) -> None:
    big = client.post("/auth/signup", content=b"{" + b" " * (1 << 20) + b"}", headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and big.json()["code"] == "PAYLOAD_TOO_LARGE"
    text = client.post("/auth/signup", content=b"email=x", headers={"Content-Type": "text/plain"})
    assert text.status_code == 415
    broken = client.post("/auth/signup", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["code"] == "INVALID_JSON"


@pytest.mark.slow
def test_signed_upload_triggers_the_storage_function(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runtime = RuntimeProcess(data, STUDIO_MANIFEST=str(REPO / "tests/fixtures/storage_manifest.yaml")).start()
    try:
        # The test is a second process on the same data dir, as a function instance would be.
        deps = Deps(Settings(data_dir=data, public_url=runtime.base_url))
        url = deps.blobs.signed_url("uploads", "users/u1/photo.png", method="PUT", content_type="image/png")
        put = httpx.put(url, content=b"\x89PNG fake", headers={"Content-Type": "image/png"})
        assert put.status_code in (200, 201), put.text
        deadline = time.monotonic() + 15
        while (seen := deps.store.get("uploads_seen/users_u1_photo.png")) is None:
            assert time.monotonic() < deadline, "storage function was not called"
            time.sleep(0.05)
        assert seen.data == {"bucket": "uploads", "name": "users/u1/photo.png", "size": 9,
                             "content_type": "image/png", "generation": seen.data["generation"],
                             "subject": "objects/users/u1/photo.png"}
        get = httpx.get(deps.blobs.signed_url("uploads", "users/u1/photo.png"))
        assert get.content == b"\x89PNG fake"
        tampered = httpx.get(deps.blobs.signed_url("uploads", "users/u1/photo.png").replace("sig=", "sig=0"))
        assert tampered.status_code == 403 and tampered.headers["content-type"] == "application/problem+json"
    finally:
        runtime.stop()
