"""Media end to end on the local runtime: signed upload -> finalize -> ingest -> optimiser ->
artifacts, with real Pillow and ffmpeg; dedupe, redelivery, the hostile inputs of issue 10, and
the /media-v2 routes' rules (revisions, policy filter, tenancy, grace-period delete)."""
from __future__ import annotations

import io
import tempfile
from typing import Any

import httpx
import pytest

from studio.media.services import media_services
from studio.media.video import is_faststart
from tests.support import media_samples as samples
from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.bus_tap import EventTap
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.usefixtures("media_tools")


def _upload(c: httpx.Client, h: dict[str, str], data: bytes, content_type: str, filename: str = "photo.jpg",
            size: int | None = None) -> tuple[str, httpx.Response]:
    r = c.post("/media-v2/uploads", json={"filename": filename, "content_type": content_type,
                                          "size_bytes": size if size is not None else len(data)}, headers=h)
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["method"] == "PUT" and ticket["headers"]["Content-Type"] == content_type
    put = httpx.put(ticket["upload_url"], content=data, headers=ticket["headers"], timeout=30)
    return ticket["asset_id"], put


def _multipart(c: httpx.Client, h: dict[str, str], data: bytes, content_type: str, filename: str = "f.png",
               **form: str) -> httpx.Response:
    return c.post("/media-v2/assets", files={"file": (filename, data, content_type)}, data=form, headers=h)


def _asset(c: httpx.Client, h: dict[str, str], asset_id: str) -> dict[str, Any]:
    r = c.get(f"/media-v2/assets/{asset_id}", headers=h)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _artifacts(c: httpx.Client, h: dict[str, str], asset_id: str) -> list[dict[str, Any]]:
    r = c.get(f"/media-v2/assets/{asset_id}/artifacts", headers=h)
    assert r.status_code == 200, r.text
    return list(r.json()["artifacts"])


def test_photo_upload_becomes_stripped_upright_variants(client: httpx.Client, platform: RunningPlatform,
                                                        owner: User, tenant: str) -> None:
    from PIL import Image

    h = owner.in_tenant(tenant)
    tap = EventTap(platform, "domain.media")
    meta = EventTap(platform, "realtime.meta")
    asset_id, put = _upload(client, h, samples.photo(2000, 1000, orientation=6), "image/jpeg")
    assert put.status_code == 200, put.text
    assert _asset(client, h, asset_id)["status"] in ("uploading", "processing")
    platform.drain()  # finalize -> media_ingest -> media.asset_registered -> media_optimizer
    asset = _asset(client, h, asset_id)
    assert asset["status"] == "ready", asset
    assert asset["kind"] == "image" and asset["sniffed_type"] == "image/jpeg" and not asset["type_mismatch"]
    assert len(asset["sha256"]) == 64
    assert asset["metadata"]["orientation"] == 6
    assert (asset["metadata"]["width"], asset["metadata"]["height"]) == (1000, 2000)  # as displayed
    assert asset["placeholder"] and len(asset["placeholder"]) > 20
    for fmt in ("avif", "webp", "jpeg"):  # 1000 px wide: 320 and 640 only, never upscaled
        assert [p.split(" ")[1] for p in asset["srcset"][fmt].split(", ")] == ["320w", "640w"]

    artifacts = _artifacts(client, h, asset_id)
    variants = [a for a in artifacts if a["kind"] == "variant"]
    assert sorted((a["params"]["format"], a["width"]) for a in variants) == sorted(
        (f, w) for f in ("avif", "webp", "jpeg") for w in (320, 640))
    assert [a["kind"] for a in artifacts if a["kind"] != "variant"] == ["placeholder"]
    for a in variants:
        assert a["asset_id"] == asset_id and a["sha256"] and a["size_bytes"] > 0
        body = httpx.get(a["download_url"], timeout=10).content
        assert len(body) == a["size_bytes"]
        with Image.open(io.BytesIO(body)) as im:
            assert im.format.lower() == {"jpeg": "jpeg", "webp": "webp", "avif": "avif"}[a["params"]["format"]]
            assert im.width == a["width"] and im.height == round(a["width"] * 2)  # upright: portrait
            exif = im.getexif()
            assert 0x8825 not in exif and not exif.get_ifd(0x8825), "GPS must be gone"
            assert 0x0112 not in exif and 0x010F not in exif and "xmp" not in im.info
    # Each derived artifact is announced with its provenance; progress and completion reach the meta channel.
    events = tap.events(tenant)
    kinds = [e["type"] for e in events]
    assert "media.asset_registered" in kinds and kinds.count("media.artifact_created") == len(artifacts)
    assert kinds[-1] == "media.asset_ready"
    derive = next(e for e in events if e["type"] == "media.artifact_created")["data"]["provenance"]
    assert derive["action"] == "derive" and derive["inputs"] == [{"kind": "asset", "id": asset_id, "sha256": asset["sha256"]}]
    upload = next(e for e in events if e["type"] == "media.asset_registered")["data"]["provenance"]
    assert upload["action"] == "upload" and upload["actor"] == {"type": "user", "id": owner.user_id}
    sent = [(e["type"], e["data"].get("stage")) for e in meta.events(tenant) if e["type"].startswith("media.")]
    assert ("media.progress", "optimising") in sent and sent[-1][0] == "media.ready"


def test_video_gets_a_faststart_720p_proxy_and_a_poster(client: httpx.Client, platform: RunningPlatform,
                                                         owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    asset_id, put = _upload(client, h, samples.clip(2.0, 1280, 960), "video/mp4", "clip.mp4")
    assert put.status_code == 200
    platform.drain()
    asset = _asset(client, h, asset_id)
    assert asset["status"] == "ready", asset
    md = asset["metadata"]
    assert (md["width"], md["height"], md["video_codec"], md["audio_codec"], md["audio_channels"]) == (
        1280, 960, "h264", "aac", 1)
    assert md["frame_rate"] == 25 and 1.9 <= md["duration_s"] <= 2.2
    by_kind = {a["kind"]: a for a in _artifacts(client, h, asset_id)}
    assert set(by_kind) == {"proxy", "poster"}
    proxy = httpx.get(by_kind["proxy"]["download_url"], timeout=10).content
    assert is_faststart(proxy) and by_kind["proxy"]["height"] == 720
    assert by_kind["poster"]["mime"] == "image/jpeg" and by_kind["poster"]["width"] == 1280


def test_voice_note_is_normalised_to_minus_16_lufs(client: httpx.Client, platform: RunningPlatform,
                                                   owner: User, tenant: str) -> None:
    from studio.media.audio import measure

    h = owner.in_tenant(tenant)
    asset_id, _ = _upload(client, h, samples.voice_note(3.0, -30.0), "audio/wav", "note.wav")
    platform.drain()
    assert _asset(client, h, asset_id)["status"] == "ready"
    [normalised] = _artifacts(client, h, asset_id)
    assert normalised["kind"] == "normalized_audio" and normalised["params"]["passes"] == 2
    loudness = normalised["data"]["loudness"]
    assert loudness["before"]["integrated_lufs"] < -30
    assert abs(loudness["after"]["integrated_lufs"] + 16) <= 1.0
    assert loudness["after"]["true_peak_dbtp"] <= -0.5
    with tempfile.NamedTemporaryFile(suffix=".m4a") as fh:  # what is stored is what was measured
        fh.write(httpx.get(normalised["download_url"], timeout=10).content)
        fh.flush()
        assert abs(measure(fh.name)["input_i"] - loudness["after"]["integrated_lufs"]) < 0.2


def test_same_bytes_twice_are_stored_and_processed_once(client: httpx.Client, platform: RunningPlatform,
                                                        owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    data = samples.png(300, 200, seed=7)
    first = _multipart(client, h, data, "image/png", "a.png")
    assert first.status_code == 201, first.text
    platform.drain()
    second = _multipart(client, h, data, "image/png", "b.png")
    assert second.status_code == 201, second.text
    platform.drain()
    a, b = _asset(client, h, first.json()["id"]), _asset(client, h, second.json()["id"])
    assert b["deduplicated_from"] == a["id"] and b["sha256"] == a["sha256"] and b["status"] == "ready"
    assert _artifacts(client, h, b["id"]) == _artifacts(client, h, a["id"])  # nothing processed twice
    blobs = platform.deps.blobs.list_blobs("uploads", f"{tenant}/dev/assets/")
    assert [i.name.rsplit("/", 1)[-1] for i in blobs] == [a["id"]]  # one stored content


def test_a_redelivered_finalize_and_a_redelivered_job_change_nothing(client: httpx.Client, platform: RunningPlatform,
                                                                       owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    asset_id, _ = _upload(client, h, samples.png(400, 300, seed=3), "image/png", "r.png")
    platform.drain()
    before = _asset(client, h, asset_id)
    artifacts = _artifacts(client, h, asset_id)
    services = media_services(platform.deps)
    info = platform.deps.blobs.stat("uploads", f"{tenant}/dev/assets/{asset_id}")
    assert services.ingest.on_finalized("uploads", info.name, info.generation) == "already-done"
    assert services.optimiser.handle(tenant, "dev", asset_id) == "skipped"
    platform.drain()
    after = _asset(client, h, asset_id)
    assert after["rev"] == before["rev"] and _artifacts(client, h, asset_id) == artifacts


@pytest.mark.parametrize(("make", "declared", "status", "reason"), [
    (samples.truncated_jpeg, "image/jpeg", "failed", "truncated"),
    (samples.bomb_png, "image/png", "failed", "decompression bomb"),
    (samples.polyglot_png, "image/png", "quarantined", "polyglot"),
    (samples.executable, "image/png", "quarantined", "executable"),
    (lambda: b"%PDF-1.4\n" + b"0" * 2000, "image/png", "failed", "type mismatch"),
    (lambda: b"PK\x03\x04" + b"\0" * 2000, "image/png", "failed", "unsupported"),
], ids=["truncated", "bomb", "polyglot", "executable", "pdf-posing-as-image", "unsupported"])
def test_bad_input_gets_a_clear_answer(client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str,
                                       make: Any, declared: str, status: str, reason: str) -> None:
    h = owner.in_tenant(tenant)
    asset_id, put = _upload(client, h, make(), declared, "bad.bin")
    assert put.status_code == 200
    platform.drain()
    asset = _asset(client, h, asset_id)
    assert asset["status"] == status and reason in asset["reason"], asset
    assert asset["download_url"] is None and _artifacts(client, h, asset_id) == []
    assert platform.platform.delivery.counters.get("media_ingest.failed", 0) == 0  # answered, never a crash loop


def test_an_upload_larger_than_declared_is_refused(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    asset_id, put = _upload(client, h, samples.png(200, 200), "image/png", size=100)
    assert put.status_code == 413 and put.json()["code"] == "PAYLOAD_TOO_LARGE"
    wrong_type = httpx.put(client.post("/media-v2/uploads", json={"filename": "x.png", "content_type": "image/png",
                                                                  "size_bytes": 10}, headers=h).json()["upload_url"],
                           content=b"0123456789", headers={"Content-Type": "image/gif"}, timeout=10)
    assert wrong_type.status_code == 403
    too_big = client.post("/media-v2/uploads", json={"filename": "x", "content_type": "video/mp4",
                                                     "size_bytes": 6 * 1024**3}, headers=h)
    assert too_big.status_code == 400 and too_big.json()["code"] == "VALIDATION_FAILED"
    not_media = client.post("/media-v2/uploads", json={"filename": "x", "content_type": "application/zip",
                                                       "size_bytes": 10}, headers=h)
    assert not_media.status_code == 400


def test_routes_filter_page_edit_and_delete(client: httpx.Client, platform: RunningPlatform, owner: User,
                                            tenant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    h = owner.in_tenant(tenant)
    ids = [_multipart(client, h, samples.png(40 + i, 30, seed=i), "image/png", f"p{i}.png").json()["id"] for i in range(3)]
    clip = _multipart(client, h, samples.voice_note(1.0), "audio/wav", "n.wav")
    assert clip.status_code == 201
    platform.drain()
    listed = client.get("/media-v2/assets", params={"kind": "image", "limit": 2}, headers=h).json()
    assert [a["id"] for a in listed["assets"]] == ids[::-1][:2] and listed["next_page_token"]
    rest = client.get("/media-v2/assets", params={"kind": "image", "limit": 2, "page_token": listed["next_page_token"]},
                      headers=h).json()
    assert [a["id"] for a in rest["assets"]] == [ids[0]]
    assert [a["id"] for a in client.get("/media-v2/assets", params={"kind": "audio"}, headers=h).json()["assets"]] == [
        clip.json()["id"]]
    assert client.get("/media-v2/assets", params={"status": "failed"}, headers=h).json()["assets"] == []
    future = client.get("/media-v2/assets", params={"created_after": "2999-01-01T00:00:00Z"}, headers=h).json()
    assert future["assets"] == []

    # The tenant's privacy policy (its routes are the privacy domain's): e-mails redacted, phones refused.
    from studio.privacy import paths as privacy_paths

    platform.deps.store.put(privacy_paths.policy(tenant, "dev"), {"actions": {"EMAIL": "redact", "PHONE": "block"}})
    url = f"/media-v2/assets/{ids[0]}"
    rev = _asset(client, h, ids[0])["rev"]
    blocked = client.patch(url, json={"alt_text": "call +1 650 253 0000"}, headers={**h, "If-Match": f'"{rev}"'})
    assert blocked.status_code == 422 and blocked.json()["code"] == "POLICY_BLOCKED"
    assert client.patch(url, json={"title": "x"}, headers=h).status_code == 428
    edited = client.patch(url, json={"title": "Call ada@example.com", "tags": ["sea", "sea", "sun"],
                                     "alt_text": "A blue square"}, headers={**h, "If-Match": f'"{rev}"'})
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Call [REDACTED:EMAIL]" and edited.json()["tags"] == ["sea", "sun"]
    assert client.patch(url, json={"title": "stale"}, headers={**h, "If-Match": f'"{rev}"'}).status_code == 412

    monkeypatch.setenv("STUDIO_MEDIA_DELETE_GRACE_S", "0")
    cur = edited.json()["rev"]
    artifact_ids = [a["id"] for a in _artifacts(client, h, ids[0])]
    assert client.delete(url, headers={**h, "If-Match": f'"{cur}"'}).status_code == 204
    assert client.get(url, headers=h).status_code == 404
    assert client.get(f"/media-v2/artifacts/{artifact_ids[0]}", headers=h).status_code == 404
    platform.drain()  # the deletion's event runs the purge: grace 0 here
    blobs = platform.deps.blobs
    assert blobs.stat("uploads", f"{tenant}/dev/assets/{ids[0]}") is None
    assert not [i for i in blobs.list_blobs("media", f"{tenant}/dev/artifacts/") if i.name.split("/")[-1].split(".")[0]
                in artifact_ids]


def test_json_registration_and_artifacts_from_elsewhere(client: httpx.Client, platform: RunningPlatform,
                                                        owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    blobs = platform.deps.blobs
    blobs.put("uploads", f"{tenant}/dev/imports/cat.png", samples.png(120, 90, seed=11), "image/png")
    r = client.post("/media-v2/assets", json={"object_name": f"{tenant}/dev/imports/cat.png", "title": "Cat"}, headers=h)
    assert r.status_code == 201, r.text
    asset = r.json()
    assert asset["filename"] == "cat.png" and asset["status"] == "processing"
    platform.drain()
    assert _asset(client, h, asset["id"])["status"] == "ready"
    assert client.post("/media-v2/assets", json={"object_name": "t_other/dev/imports/cat.png"},
                       headers=h).json()["code"] == "MEDIA_OBJECT_MISSING"

    blobs.put("uploads", f"{tenant}/dev/masks/cat-mask.png", samples.png(120, 90, seed=1), "image/png")
    made = client.post(f"/media-v2/assets/{asset['id']}/artifacts", json={
        "kind": "mask", "object_name": f"{tenant}/dev/masks/cat-mask.png", "params": {"model": "sam-2"},
        "tool": "segmenter"}, headers=h)
    assert made.status_code == 201, made.text
    got = client.get(f"/media-v2/artifacts/{made.json()['id']}", headers=h).json()
    assert (got["kind"], got["asset_id"], got["params"], got["data"]["tool"]) == ("mask", asset["id"], {"model": "sam-2"},
                                                                                 "segmenter")
    assert "mask" in [a["kind"] for a in _artifacts(client, h, asset["id"])]


def test_tenancy_roles_and_hostile_requests(client: httpx.Client, platform: RunningPlatform, owner: User,
                                            tenant: str) -> None:
    h = owner.in_tenant(tenant)
    mine = _multipart(client, h, samples.png(50, 50, seed=99), "image/png").json()["id"]
    stranger = new_user(client, "stranger")
    other = new_tenant(client, stranger, "Other")
    sh = stranger.in_tenant(other)
    assert client.get(f"/media-v2/assets/{mine}", headers=sh).status_code == 404
    assert client.get(f"/media-v2/assets/{mine}/artifacts", headers=sh).status_code == 404
    assert client.get(f"/media-v2/assets/{mine}", headers=stranger.in_tenant(tenant)).status_code == 403
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    vh = viewer.in_tenant(tenant)
    assert client.get(f"/media-v2/assets/{mine}", headers=vh).status_code == 200
    assert client.post("/media-v2/uploads", json={"filename": "a", "content_type": "image/png", "size_bytes": 5},
                       headers=vh).json()["code"] == "ROLE_INSUFFICIENT"
    for bad in ("as_../../x", "as_" + "z" * 20, "x" * 300):
        assert client.get(f"/media-v2/assets/{bad}", headers=h).status_code == 404
    for size in (b"NaN", b"1e400", b"99999999999999999999999", b"-1", b"true"):
        raw = b'{"filename": "a", "content_type": "image/png", "size_bytes": ' + size + b"}"
        r = client.post("/media-v2/uploads", content=raw, headers={**h, "Content-Type": "application/json"})
        assert r.status_code == 400, (size, r.text)
    deep = {"filename": "a", "content_type": "image/png", "size_bytes": 5, "title": None}
    for _ in range(100):
        deep = {"x": deep}
    assert client.post("/media-v2/uploads", json=deep, headers=h).status_code == 400
    assert client.post("/media-v2/assets", content=b"not json", headers={**h, "Content-Type": "text/plain"}
                       ).status_code == 415
    assert client.post("/media-v2/assets", files={"other": ("a.png", b"x", "image/png")}, headers=h
                       ).json()["code"] == "MEDIA_MULTIPART_INVALID"
    assert _multipart(client, h, b"x" * (2 << 20), "image/png").status_code == 413


def test_a_large_upload_is_resumable_after_a_drop(client: httpx.Client, platform: RunningPlatform, owner: User,
                                                  tenant: str) -> None:
    h = owner.in_tenant(tenant)
    size, first = 33 * 1024 * 1024, 8 * 1024 * 1024
    ticket = client.post("/media-v2/uploads", json={"filename": "long.wav", "content_type": "audio/wav",
                                                    "size_bytes": size}, headers=h).json()
    assert ticket["resumable"] is True and "upload_id=" in ticket["upload_url"]
    url = ticket["upload_url"]
    r = httpx.put(url, content=b"\0" * first, headers={"Content-Range": f"bytes 0-{first - 1}/*"}, timeout=30)
    assert (r.status_code, r.headers["Range"]) == (308, f"bytes=0-{first - 1}")
    # The connection dropped here: the client asks what arrived, then sends the rest.
    r = httpx.put(url, content=b"", headers={"Content-Range": f"bytes */{size}"}, timeout=30)
    assert (r.status_code, r.headers["Range"]) == (308, f"bytes=0-{first - 1}")
    tampered = url.replace("sig=", "sig=0")
    assert httpx.put(tampered, content=b"x", headers={"Content-Range": f"bytes {first}-{first}/*"}).status_code == 403
    too_much = httpx.put(url, content=b"\0" * 2, headers={"Content-Range": f"bytes {first}-{first + 1}/{size + 1}"})
    assert too_much.status_code == 413
    r = httpx.put(url, content=b"\0" * (size - first), headers={"Content-Range": f"bytes {first}-{size - 1}/{size}"},
                  timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["size"] == size
    platform.drain()
    asset = _asset(client, h, ticket["asset_id"])
    assert (asset["status"], asset["reason"], asset["size_bytes"]) == ("failed", "unsupported", size)  # zeros: no audio


def test_nothing_stays_processing_forever(client: httpx.Client, platform: RunningPlatform, owner: User,
                                          tenant: str) -> None:
    """A worker that died mid-ingest: its lease runs out and the next delivery takes over; past the
    deadline, the asset fails with ``timeout`` (and reads so even before any delivery comes)."""
    from studio.media import paths

    h = owner.in_tenant(tenant)
    store, services = platform.deps.store, media_services(platform.deps)

    def crashed(asset_id: str, *, lease: str, deadline: str) -> None:  # what a worker that died leaves behind
        doc = store.get(paths.asset(tenant, "dev", asset_id))
        store.put(doc.path, dict(doc.data, status="processing", lease_until=lease, deadline=deadline))

    past, future = "2000-01-01T00:00:00.000000Z", "2999-01-01T00:00:00.000000Z"
    taken_over, _ = _upload(client, h, samples.png(90, 60, seed=21), "image/png", "a.png")
    crashed(taken_over, lease=future, deadline=future)
    name = f"{tenant}/dev/assets/{taken_over}"
    assert services.ingest.on_finalized("uploads", name, 1) == "leased"  # another worker holds it: hands off
    crashed(taken_over, lease=past, deadline=future)
    assert services.ingest.on_finalized("uploads", name, 1) == "registered"  # the lease ran out: taken over
    platform.drain()
    assert _asset(client, h, taken_over)["status"] == "ready"

    stuck, _ = _upload(client, h, samples.png(90, 60, seed=22), "image/png", "b.png")
    crashed(stuck, lease=future, deadline=past)
    assert _asset(client, h, stuck)["status"] == "failed" and _asset(client, h, stuck)["reason"] == "timeout"
    crashed(stuck, lease=past, deadline=past)
    assert services.ingest.on_finalized("uploads", f"{tenant}/dev/assets/{stuck}", 1) == "timeout"
    platform.drain()
    doc = store.get(paths.asset(tenant, "dev", stuck))
    assert (doc.data["status"], doc.data["reason"]) == ("failed", "timeout")


def test_deleting_deduplicated_content_keeps_it_for_the_live_duplicate(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    h = owner.in_tenant(tenant)
    data = samples.png(120, 80, seed=77)
    original = _multipart(client, h, data, "image/png", "o.png").json()["id"]
    platform.drain()
    duplicate = _multipart(client, h, data, "image/png", "d.png").json()["id"]
    platform.drain()
    blobs, upload = platform.deps.blobs, f"{tenant}/dev/assets/{original}"
    monkeypatch.setenv("STUDIO_MEDIA_DELETE_GRACE_S", "0")
    assert client.delete(f"/media-v2/assets/{original}", headers={**h, "If-Match": "*"}).status_code == 204
    platform.drain()  # due at once, but the duplicate is live: kept
    kept = _asset(client, h, duplicate)
    assert blobs.stat("uploads", upload) is not None and httpx.get(kept["download_url"]).content == data
    made = _artifacts(client, h, duplicate)
    assert len(made) == 4
    assert client.delete(f"/media-v2/assets/{duplicate}", headers={**h, "If-Match": "*"}).status_code == 204
    platform.drain()  # the last asset on those bytes is gone: so are they
    assert blobs.stat("uploads", upload) is None
    left = {i.name.rsplit("/", 1)[-1].split(".")[0] for i in blobs.list_blobs("media", f"{tenant}/dev/artifacts/")}
    assert not left & {a["id"] for a in made}
