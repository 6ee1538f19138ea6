"""Behaviour every BlobStore adapter must share (local filesystem, Cloud Storage).

Subclass ``BlobStoreContract`` and provide a ``blob_store`` fixture. Override
``bucket`` when the backend needs the bucket created first (fake-gcs-server).
``test_signed_url_round_trip`` needs the store's signed URLs to be reachable.
"""
from __future__ import annotations

import base64
import hashlib
import re
import threading

import httpx
import pytest

from studio.kernel import errors
from studio.ports.blobs import BlobInfo, BlobStore

TRAVERSAL_NAMES = [
    "../escape",
    "a/../../escape",
    "a/..",
    "..",
    ".",
    "a/./b",
    "/etc/passwd",
    "C:/windows",
    "a\\..\\b",
    "nul\x00byte",
    "line\nbreak",
    "",
    "x" * 1025,
]


class BlobStoreContract:
    @pytest.fixture
    def bucket(self) -> str:
        return "studio-contract"

    def test_put_get_round_trip(self, blob_store: BlobStore, bucket: str) -> None:
        data = b"\x00\xffhello blob" * 10
        info = blob_store.put(bucket, "dir/sub dir/h\u00e9llo?#%.bin", data, "image/png")
        got, got_info = blob_store.get(bucket, "dir/sub dir/h\u00e9llo?#%.bin")
        assert got == data
        assert got_info == info
        assert info.bucket == bucket and info.name == "dir/sub dir/h\u00e9llo?#%.bin"
        assert info.size == len(data) and info.content_type == "image/png"
        assert info.generation > 0
        assert info.md5_b64 == base64.b64encode(hashlib.md5(data).digest()).decode()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", info.updated)
        assert blob_store.stat(bucket, info.name) == info

    def test_crc32c_matches_gcs(self, blob_store: BlobStore, bucket: str) -> None:
        # Standard CRC32C check value: crc32c(b"123456789") == 0xE3069283.
        assert blob_store.put(bucket, "check", b"123456789").crc32c_b64 == "4waSgw=="
        assert blob_store.put(bucket, "empty", b"").crc32c_b64 == "AAAAAA=="

    def test_default_content_type(self, blob_store: BlobStore, bucket: str) -> None:
        assert blob_store.put(bucket, "raw", b"x").content_type == "application/octet-stream"

    def test_missing_object(self, blob_store: BlobStore, bucket: str) -> None:
        with pytest.raises(errors.NotFound):
            blob_store.get(bucket, "nope")
        assert blob_store.stat(bucket, "nope") is None
        with pytest.raises(errors.NotFound):
            blob_store.delete(bucket, "nope")

    def test_generation_increases_on_overwrite(self, blob_store: BlobStore, bucket: str) -> None:
        g1 = blob_store.put(bucket, "obj", b"one").generation
        g2 = blob_store.put(bucket, "obj", b"two").generation
        assert g2 > g1
        assert blob_store.get(bucket, "obj")[0] == b"two"

    def test_if_generation_match_zero_creates_only(self, blob_store: BlobStore, bucket: str) -> None:
        info = blob_store.put(bucket, "once", b"first", if_generation_match=0)
        with pytest.raises(errors.RevisionConflict) as exc:
            blob_store.put(bucket, "once", b"second", if_generation_match=0)
        assert exc.value.status == 412 and exc.value.current_rev == info.generation
        assert blob_store.get(bucket, "once")[0] == b"first"

    def test_if_generation_match(self, blob_store: BlobStore, bucket: str) -> None:
        g1 = blob_store.put(bucket, "cas", b"1").generation
        g2 = blob_store.put(bucket, "cas", b"2", if_generation_match=g1).generation
        with pytest.raises(errors.RevisionConflict):
            blob_store.put(bucket, "cas", b"3", if_generation_match=g1)
        with pytest.raises(errors.RevisionConflict):
            blob_store.put(bucket, "absent", b"x", if_generation_match=g2)
        with pytest.raises(errors.RevisionConflict):
            blob_store.delete(bucket, "cas", if_generation_match=g1)
        blob_store.delete(bucket, "cas", if_generation_match=g2)
        assert blob_store.stat(bucket, "cas") is None

    def test_recreated_object_gets_a_new_generation(self, blob_store: BlobStore, bucket: str) -> None:
        g1 = blob_store.put(bucket, "phoenix", b"a").generation
        blob_store.delete(bucket, "phoenix")
        g2 = blob_store.put(bucket, "phoenix", b"b").generation
        assert g2 != g1
        with pytest.raises(errors.RevisionConflict):  # a stale generation never matches again
            blob_store.put(bucket, "phoenix", b"c", if_generation_match=g1)

    def test_concurrent_create_only_one_wins(self, blob_store: BlobStore, bucket: str) -> None:
        wins, conflicts = [], []

        def attempt(i: int) -> None:
            try:
                wins.append(blob_store.put(bucket, "race", str(i).encode(), if_generation_match=0))
            except errors.RevisionConflict:
                conflicts.append(i)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1 and len(conflicts) == 7
        assert blob_store.stat(bucket, "race") == wins[0]

    def test_list_with_prefix_sorted_and_limited(self, blob_store: BlobStore, bucket: str) -> None:
        for name in ["b/2", "a/1", "b/1", "b", "c/1", "b/sub/3"]:
            blob_store.put(bucket, name, name.encode())
        assert [i.name for i in blob_store.list_blobs(bucket, "b/")] == ["b/1", "b/2", "b/sub/3"]
        assert [i.name for i in blob_store.list_blobs(bucket)] == ["a/1", "b", "b/1", "b/2", "b/sub/3", "c/1"]
        assert [i.name for i in blob_store.list_blobs(bucket, "b", limit=2)] == ["b", "b/1"]
        assert blob_store.list_blobs(bucket, "zzz") == []
        assert all(isinstance(i, BlobInfo) and i.bucket == bucket for i in blob_store.list_blobs(bucket))

    def test_delete(self, blob_store: BlobStore, bucket: str) -> None:
        blob_store.put(bucket, "gone", b"x")
        blob_store.put(bucket, "kept", b"y")
        blob_store.delete(bucket, "gone")
        assert blob_store.stat(bucket, "gone") is None
        assert [i.name for i in blob_store.list_blobs(bucket)] == ["kept"]

    @pytest.mark.parametrize("name", TRAVERSAL_NAMES)
    def test_traversal_and_bad_names_rejected(self, blob_store: BlobStore, bucket: str, name: str) -> None:
        for call in (
            lambda: blob_store.put(bucket, name, b"x"),
            lambda: blob_store.get(bucket, name),
            lambda: blob_store.stat(bucket, name),
            lambda: blob_store.delete(bucket, name),
            lambda: blob_store.signed_url(bucket, name),
        ):
            with pytest.raises(errors.StudioError) as exc:
                call()
            assert exc.value.status == 400

    @pytest.mark.parametrize("bad_bucket", ["", "..", "../x", "a/b", "UPPER", "x"])
    def test_bad_bucket_rejected(self, blob_store: BlobStore, bad_bucket: str) -> None:
        with pytest.raises(errors.StudioError) as exc:
            blob_store.put(bad_bucket, "obj", b"x")
        assert exc.value.status == 400

    def test_signed_url_rejects_bad_arguments(self, blob_store: BlobStore, bucket: str) -> None:
        for kwargs in ({"method": "DELETE"}, {"expires_s": 0}, {"expires_s": 8 * 24 * 3600}):
            with pytest.raises(errors.StudioError) as exc:
                blob_store.signed_url(bucket, "obj", **kwargs)
            assert exc.value.status == 400

    def test_signed_url_round_trip(self, blob_store: BlobStore, bucket: str) -> None:
        name = "uploads/r\u00e9sum\u00e9 #1?.txt"
        put_url = blob_store.signed_url(bucket, name, method="PUT", content_type="text/plain")
        with httpx.Client(timeout=5) as http:
            r = http.put(put_url, content=b"hello", headers={"Content-Type": "text/plain"})
            assert r.status_code == 200, r.text
            r = http.get(blob_store.signed_url(bucket, name))
        assert r.status_code == 200
        assert r.content == b"hello"
        assert r.headers["content-type"] == "text/plain"
        assert blob_store.get(bucket, name)[0] == b"hello"
