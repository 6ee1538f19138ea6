"""LocalBlobStore against the blob contract, plus its signed-URL HTTP endpoint
served over real HTTP (werkzeug's server on an ephemeral port)."""
from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from werkzeug.serving import make_server

from studio.adapters.local_blob_server import signed_blob_wsgi_app
from studio.adapters.local_blobs import LocalBlobStore, crc32c
from studio.kernel import errors
from studio.ports.blobs import BlobInfo
from tests.contract.blob_contract import BlobStoreContract

KEY = b"k" * 32
BUCKET = "studio-contract"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class Served:
    store: LocalBlobStore
    clock: Clock
    finalized: list[BlobInfo] = field(default_factory=list)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    holder: dict[str, object] = {}
    # The store needs the port in its base_url and the app needs the store: late-bind.
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start))  # type: ignore[operator]
    clock = Clock()
    store = LocalBlobStore(tmp_path / "blobs", base_url=f"http://127.0.0.1:{server.port}", signing_key=KEY, clock=clock)
    out = Served(store, clock)
    holder["app"] = signed_blob_wsgi_app(store, out.finalized.append, max_bytes=1024)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield out
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


class TestLocalBlobStore(BlobStoreContract):
    @pytest.fixture
    def blob_store(self, served: Served) -> LocalBlobStore:
        return served.store


def _problem(resp: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == status and body["code"] == code
    return body


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query="&".join(f"{k}={v}" for k, v in query.items())).geturl()


def test_crc32c_known_values() -> None:
    assert crc32c(b"") == 0
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"\x00" * 32) == 0x8A9136AA  # RFC 3720 B.4 test vector


def test_upload_calls_on_finalize_once_with_durable_info(served: Served, http: httpx.Client) -> None:
    url = served.store.signed_url(BUCKET, "in/photo.png", method="PUT", content_type="image/png")
    r = http.put(url, content=b"\x89PNG", headers={"Content-Type": "image/png"})
    assert r.status_code == 200
    assert len(served.finalized) == 1
    info = served.finalized[0]
    assert info == served.store.stat(BUCKET, "in/photo.png")
    assert (info.bucket, info.name, info.size, info.content_type) == (BUCKET, "in/photo.png", 4, "image/png")
    assert r.json()["generation"] == info.generation
    assert r.headers["x-goog-generation"] == str(info.generation)


def test_download_headers(served: Served, http: httpx.Client) -> None:
    info = served.store.put(BUCKET, "page.html", b"<script>alert(1)</script>", "text/html")
    r = http.get(served.store.signed_url(BUCKET, "page.html"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html"
    assert r.headers["content-length"] == str(info.size)
    assert r.headers["etag"].strip('"') == base64.b64decode(info.md5_b64).hex()
    assert r.headers["x-content-type-options"] == "nosniff"
    assert f"crc32c={info.crc32c_b64}" in r.headers["x-goog-hash"]


def test_expired_url_is_forbidden(served: Served, http: httpx.Client) -> None:
    served.store.put(BUCKET, "obj", b"x")
    url = served.store.signed_url(BUCKET, "obj", expires_s=60)
    served.clock.now += 61
    _problem(http.get(url), 403, "FORBIDDEN")


def test_tampered_signature_is_forbidden(served: Served, http: httpx.Client) -> None:
    served.store.put(BUCKET, "obj", b"x")
    served.store.put(BUCKET, "other", b"y")
    url = served.store.signed_url(BUCKET, "obj")
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    _problem(http.get(_with_query(url, sig=flipped)), 403, "FORBIDDEN")
    _problem(http.get(_with_query(url, expires=str(int(served.clock.now) + 9999))), 403, "FORBIDDEN")
    _problem(http.get(url.replace("/obj?", "/other?")), 403, "FORBIDDEN")
    _problem(http.get(url.split("?")[0]), 403, "FORBIDDEN")


def test_get_url_cannot_upload(served: Served, http: httpx.Client) -> None:
    served.store.put(BUCKET, "obj", b"original")
    url = served.store.signed_url(BUCKET, "obj")
    _problem(http.put(url, content=b"evil"), 403, "FORBIDDEN")
    _problem(http.put(_with_query(url, method="PUT"), content=b"evil"), 403, "FORBIDDEN")
    assert served.store.get(BUCKET, "obj")[0] == b"original"
    assert served.finalized == []


def test_put_url_binds_content_type(served: Served, http: httpx.Client) -> None:
    url = served.store.signed_url(BUCKET, "img", method="PUT", content_type="image/png")
    _problem(http.put(url, content=b"x", headers={"Content-Type": "text/html"}), 403, "FORBIDDEN")
    unbound = served.store.signed_url(BUCKET, "any", method="PUT")
    assert http.put(unbound, content=b"x", headers={"Content-Type": "text/csv"}).status_code == 200
    assert served.store.stat(BUCKET, "any").content_type == "text/csv"  # type: ignore[union-attr]


def test_missing_object_is_404(served: Served, http: httpx.Client) -> None:
    _problem(http.get(served.store.signed_url(BUCKET, "nothing")), 404, "NOT_FOUND")


def test_traversal_over_http_is_400(served: Served, http: httpx.Client) -> None:
    # %2E%2E survives client-side dot-segment removal; the server decodes it to "..".
    base = served.store.base_url
    _problem(http.get(f"{base}/_blobs/{BUCKET}/a/%2E%2E/%2E%2E/etc/passwd?method=GET"), 400, "BAD_REQUEST")
    _problem(http.get(f"{base}/_blobs/{BUCKET}/a%5C..%5Cb"), 400, "BAD_REQUEST")
    _problem(http.get(f"{base}/_blobs/NOT..A_BUCKET/x"), 400, "BAD_REQUEST")
    _problem(http.get(f"{base}/elsewhere"), 404, "ROUTE_NOT_FOUND")
    _problem(http.delete(served.store.signed_url(BUCKET, "obj")), 405, "METHOD_NOT_ALLOWED")


def test_generation_precondition_over_http(served: Served, http: httpx.Client) -> None:
    served.store.put(BUCKET, "cas", b"1")
    url = served.store.signed_url(BUCKET, "cas", method="PUT")
    body = _problem(http.put(url, content=b"2", headers={"x-goog-if-generation-match": "0"}), 412, "REVISION_CONFLICT")
    assert body["current_rev"] == served.store.stat(BUCKET, "cas").generation  # type: ignore[union-attr]
    assert served.finalized == []


def test_upload_size_limit(served: Served, http: httpx.Client) -> None:
    url = served.store.signed_url(BUCKET, "big", method="PUT")
    _problem(http.put(url, content=b"x" * 1025), 413, "PAYLOAD_TOO_LARGE")
    assert served.store.stat(BUCKET, "big") is None


def test_a_finalize_that_cannot_be_queued_is_a_503_and_a_retry_notifies(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from werkzeug.test import Client

    store = LocalBlobStore(tmp_path, base_url="http://blobs.local", signing_key=KEY)
    notified: list[int] = []

    def flaky(info: BlobInfo) -> None:
        if not notified and "failed" not in caplog.text:
            raise RuntimeError("bus unavailable")
        notified.append(info.generation)

    client = Client(signed_blob_wsgi_app(store, flaky))
    url = store.signed_url(BUCKET, "obj", method="PUT").removeprefix("http://blobs.local")
    first = client.put(url, data=b"x")
    assert first.status_code == 503 and first.json["code"] == "UNAVAILABLE"  # never a silent success
    assert "on_finalize failed" in caplog.text
    assert client.put(url, data=b"x").status_code == 200
    assert notified == [store.stat(BUCKET, "obj").generation]


def test_mounted_under_a_dispatcher(tmp_path: Path) -> None:
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.test import Client

    store = LocalBlobStore(tmp_path, base_url="http://x", signing_key=KEY)
    store.put(BUCKET, "obj", b"hi")
    app = DispatcherMiddleware(lambda e, s: [], {"/_blobs": signed_blob_wsgi_app(store)})
    resp = Client(app).get(store.signed_url(BUCKET, "obj").removeprefix("http://x"))
    assert resp.status_code == 200 and resp.data == b"hi"


def test_names_never_reach_the_filesystem(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, base_url="http://x", signing_key=KEY)
    store.put(BUCKET, "a", b"file")
    store.put(BUCKET, "a/b", b"also a file")  # both exist, as on GCS
    names = os.listdir(tmp_path / BUCKET)
    assert all(n.startswith(".") or (n.endswith(".blob") and len(n) == 69) for n in names)
    assert [i.name for i in store.list_blobs(BUCKET)] == ["a", "a/b"]


def test_leftover_temp_file_is_ignored_and_data_survives_reopen(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, base_url="http://x", signing_key=KEY)
    info = store.put(BUCKET, "keep", b"data")
    (tmp_path / BUCKET / ".tmp-crashed").write_bytes(b'{"half": ')  # a write killed mid-way
    again = LocalBlobStore(tmp_path, base_url="http://x", signing_key=KEY)
    assert again.get(BUCKET, "keep") == (b"data", info)
    assert [i.name for i in again.list_blobs(BUCKET)] == ["keep"]
    assert again.put(BUCKET, "keep", b"new").generation > info.generation


def test_verify_signed_directly(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, base_url="http://x", signing_key=KEY)
    other = LocalBlobStore(tmp_path, base_url="http://x", signing_key=b"z" * 32)
    query = {k: v[0] for k, v in parse_qs(urlsplit(store.signed_url(BUCKET, "o")).query).items()}
    store.verify_signed("GET", BUCKET, "o", query, None)
    for bad in ({**query, "sig": "\u00e9"}, {**query, "expires": "\u00b2"}, {}):
        with pytest.raises(errors.StudioError) as exc:
            store.verify_signed("GET", BUCKET, "o", bad, None)
        assert exc.value.code is errors.FORBIDDEN
    with pytest.raises(errors.StudioError):
        other.verify_signed("GET", BUCKET, "o", query, None)
    assert "kkkk" not in repr(store)
