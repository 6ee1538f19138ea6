"""A real render over HTTP carries content credentials and its mask: the output MP4 embeds a C2PA manifest
signed with the deployment's ES256 chain (an ingredient per source, c2pa.edited), which
``GET /provenance/c2pa/{id}`` reads back Trusted and, once the stored file is tampered with, Invalid. A
WebM render carries the same manifest as a sidecar store beside it. The mask (an uploaded PNG asset)
shows the layer below where it is black."""
from __future__ import annotations

import io
import os
import subprocess
import tempfile
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.support import media_samples as samples
from tests.support.api import User, new_tenant, new_user
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.usefixtures("media_tools")


def _encoded(*args: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, out], check=True, timeout=120)
        with open(out, "rb") as fh:
            return fh.read()


def _colour_clip(colour: str) -> bytes:
    return _encoded("-f", "lavfi", "-i", f"color=c={colour}:s=320x240:r=25:d=2", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest")


def _half_black_png() -> bytes:
    img = Image.new("L", (64, 48), 255)
    img.paste(0, (0, 0, 32, 48))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _asset(c: httpx.Client, platform: RunningPlatform, h: dict[str, str], data: bytes, mime: str, name: str) -> dict[str, Any]:
    r = c.post("/media-v2/assets", files={"file": (name, data, mime)}, headers=h)
    assert r.status_code in (201, 202), r.text
    platform.drain()
    got = c.get(f"/media-v2/assets/{r.json()['id']}", headers=h).json()
    assert got["status"] == "ready", got
    return dict(got)


def _render(c: httpx.Client, platform: RunningPlatform, h: dict[str, str], tl: dict[str, Any]) -> dict[str, Any]:
    project = c.post("/video/projects", json={"name": "Credits", "timeline": tl}, headers=h)
    assert project.status_code == 201, project.text
    body = {"project_id": project.json()["id"], "rev": project.json()["rev"]}
    dry = c.post("/video/render/dry-run", json=body, headers=h)
    assert dry.status_code == 200, dry.text
    r = c.post("/video/render", json=body, headers=h)
    assert r.status_code == 202, r.text
    platform.drain()  # the render worker, then the ledger writer
    job = c.get(f"/video/render/jobs/{r.json()['id']}", headers=h).json()
    assert job["status"] == "done", job
    assert job["plan"] == dry.json()
    return dict(job)


def _stored(platform: RunningPlatform, tenant: str, artifact_id: str) -> tuple[str, str]:
    from studio.media import paths

    doc = platform.deps.store.get(paths.artifact(tenant, "dev", artifact_id))
    assert doc is not None
    return str(doc.data["object"]["bucket"]), str(doc.data["object"]["name"])


def _frame(data: bytes, at: float) -> Image.Image:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "in.mp4"), os.path.join(tmp, "f.png")
        with open(src, "wb") as fh:
            fh.write(data)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-ss", str(at), "-i", src, "-frames:v", "1", out],
                       check=True)
        return Image.open(out).convert("RGB")


def test_a_render_is_signed_masked_and_tamper_evident(client: httpx.Client, platform: RunningPlatform, owner: User,
                                                      tenant: str) -> None:
    h = owner.in_tenant(tenant)
    red = _asset(client, platform, h, _colour_clip("red"), "video/mp4", "red.mp4")
    blue = _asset(client, platform, h, _colour_clip("blue"), "video/mp4", "blue.mp4")
    mask = _asset(client, platform, h, _half_black_png(), "image/png", "mask.png")
    tl = {"tracks": [
        {"id": "bg", "kind": "video", "clips": [{"id": "r", "source": red["id"], "in": 0, "out": 2}]},
        {"id": "top", "kind": "overlay", "clips": [
            {"id": "b", "source": blue["id"], "in": 0, "out": 2, "mask": mask["id"]}]}],
        "output": {"width": 320, "height": 240, "fps": 25, "quality": 12, "chunk_seconds": 1}}
    job = _render(client, platform, h, tl)
    assert len(job["plan"]["chunks"]) == 2 and all("alphamerge" in c["filter"] for c in job["plan"]["chunks"])

    report = client.get(f"/provenance/c2pa/{job['artifact_id']}", headers=h)
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["mime"], body["validation_state"], body["manifest_location"]) == ("video/mp4", "Trusted", "embedded")
    assert body["errors"] == [] and body["sha256_matches_ledger"] is True
    manifest = body["manifest"]
    assert manifest["signature_info"]["alg"] == "Es256"
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.created", "c2pa.placed", "c2pa.edited"]
    assert {(i["instance_id"], i["relationship"]) for i in manifest["ingredients"]} == {
        (f"sha256:{a['sha256']}", "componentOf") for a in (red, blue, mask)}

    # the signed file is still the render: its masked half shows the red layer below
    bucket, name = _stored(platform, tenant, job["artifact_id"])
    data, _ = platform.deps.blobs.get(bucket, name)
    frame = _frame(data, 1.0)
    left, right = frame.getpixel((40, 120)), frame.getpixel((280, 120))
    assert left[0] > 200 and left[2] < 60 and right[2] > 200 and right[0] < 60, (left, right)

    # a viewer reads it; another tenant does not find it
    other = new_user(client, "elsewhere")
    assert client.get(f"/provenance/c2pa/{job['artifact_id']}", headers=other.in_tenant(new_tenant(client, other))
                      ).status_code == 404

    tampered = bytearray(data)
    tampered[len(tampered) - 200] ^= 0x5A  # in the media data, after the moov (faststart) and the manifest
    platform.deps.blobs.put(bucket, name, bytes(tampered), "video/mp4")
    bad = client.get(f"/provenance/c2pa/{job['artifact_id']}", headers=h).json()
    assert bad["validation_state"] == "Invalid" and bad["errors"] and bad["sha256_matches_ledger"] is False


def test_a_webm_render_carries_its_manifest_beside_it(client: httpx.Client, platform: RunningPlatform, owner: User,
                                                      tenant: str) -> None:
    h = owner.in_tenant(tenant)
    red = _asset(client, platform, h, _colour_clip("red"), "video/mp4", "red.mp4")
    job = _render(client, platform, h, {"tracks": [
        {"id": "v", "kind": "video", "clips": [{"id": "r", "source": red["id"], "in": 0, "out": 1}]}],
        "output": {"width": 160, "height": 120, "codec": "vp9"}})
    bucket, name = _stored(platform, tenant, job["artifact_id"])
    assert name.endswith(".webm") and platform.deps.blobs.stat(bucket, name + ".c2pa") is not None
    body = client.get(f"/provenance/c2pa/{job['artifact_id']}", headers=h).json()
    assert (body["mime"], body["validation_state"], body["manifest_location"]) == ("video/webm", "Trusted", "sidecar")
    assert [i["instance_id"] for i in body["manifest"]["ingredients"]] == [f"sha256:{red['sha256']}"]

    data, _ = platform.deps.blobs.get(bucket, name)
    tampered = bytearray(data)
    tampered[len(tampered) // 2] ^= 0x5A
    platform.deps.blobs.put(bucket, name, bytes(tampered), "video/webm")
    bad = client.get(f"/provenance/c2pa/{job['artifact_id']}", headers=h).json()
    assert bad["validation_state"] == "Invalid" and any("mismatch" in e["code"] for e in bad["errors"]), bad


def test_hostile_masks_are_refused_with_their_reason(client: httpx.Client, platform: RunningPlatform, owner: User,
                                                     tenant: str) -> None:
    h = owner.in_tenant(tenant)
    red = _asset(client, platform, h, _colour_clip("red"), "video/mp4", "red.mp4")
    tone = _asset(client, platform, h, samples.voice_note(1.0), "audio/wav", "tone.wav")
    other = new_user(client, "mask-owner")
    elsewhere = new_tenant(client, other)
    theirs = _asset(client, platform, other.in_tenant(elsewhere), _half_black_png(), "image/png", "m.png")

    def dry_run(mask: Any, **extra: Any) -> httpx.Response:
        clip = {"id": "r", "source": red["id"], "in": 0, "out": 1, "mask": mask, **extra}
        p = client.post("/video/projects", json={"name": "m", "timeline": {"tracks": [
            {"id": "v", "kind": "video", "clips": [clip]}]}}, headers=h)
        if p.status_code != 201:
            return p
        return client.post("/video/render/dry-run", json={"project_id": p.json()["id"], "rev": 1}, headers=h)

    sound = dry_run(tone["id"])
    assert (sound.status_code, sound.json()["code"]) == (422, "MASK_NOT_VISUAL"), sound.text
    stolen = dry_run(theirs["id"])  # another tenant's picture is not found here
    assert (stolen.status_code, stolen.json()["code"]) == (422, "RENDER_SOURCE_MISSING"), stolen.text
    for mask, extra, pointer in [("as_../../etc/passwd", {}, "/tracks/0/clips/0/mask"),
                                 (None, {"mask_mode": "hue"}, "/tracks/0/clips/0/mask_mode"),
                                 ({"$ne": 1}, {}, "/tracks/0/clips/0/mask")]:
        bad = dry_run(mask, **extra)
        assert bad.status_code == 422 and bad.json()["code"] == "TIMELINE_INVALID", bad.text
        assert [e["pointer"] for e in bad.json()["errors"]] == [pointer]
