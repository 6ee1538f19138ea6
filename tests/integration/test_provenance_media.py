"""Media's real flow into the ledger (issue 10's test "upload -> finalize -> variants -> artifacts -> a
verified ledger"): a photo uploaded through /media-v2 is registered, optimised into variants, edited
and deleted; every step arrives on domain.media with its provenance, the provenance_writer appends it,
and the chain verifies, with lineage from the upload down to each variant."""
from __future__ import annotations

import shutil

import httpx
import pytest

from tests.support import media_samples as samples
from tests.support.api import User
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg missing: infra/install-media-tools.sh")


def test_a_photos_life_is_a_verified_chain(client: httpx.Client, platform: RunningPlatform, owner: User,
                                           tenant: str) -> None:
    h = owner.in_tenant(tenant)
    created = client.post("/media-v2/assets", files={"file": ("cat.jpg", samples.photo(700, 500, gps=True), "image/jpeg")},
                          headers=h)
    assert created.status_code == 201, created.text
    asset_id = created.json()["id"]
    platform.drain()
    asset = client.get(f"/media-v2/assets/{asset_id}", headers=h).json()
    assert asset["status"] == "ready", asset
    variants = [a for a in client.get(f"/media-v2/assets/{asset_id}/artifacts", headers=h).json()["artifacts"]]
    assert variants
    # Each image variant carries a C2PA manifest naming the upload as its parent, by hash.
    for variant in (a for a in variants if a["kind"] == "variant"):
        report = client.get(f"/provenance/c2pa/{variant['id']}", headers=h).json()
        assert report["validation_state"] == "Trusted", report
        assert report["sha256"] == variant["sha256"] and report["sha256_matches_ledger"] is True
        assert report["manifest"]["ingredients"][0]["instance_id"] == f"sha256:{asset['sha256']}"
    placeholder = next(a for a in variants if a["kind"] == "placeholder")
    refused = client.get(f"/provenance/c2pa/{placeholder['id']}", headers=h)  # a BlurHash string, not an image
    assert (refused.status_code, refused.json()["code"]) == (415, "C2PA_UNSUPPORTED_FORMAT")

    edited = client.patch(f"/media-v2/assets/{asset_id}", json={"title": "Cat"}, headers={**h, "If-Match": f'"{asset["rev"]}"'})
    assert edited.status_code == 200, edited.text
    assert client.delete(f"/media-v2/assets/{asset_id}", headers={**h, "If-Match": f'"{edited.json()["rev"]}"'}
                         ).status_code == 204
    platform.drain()

    entries = client.get("/provenance/entries", params={"limit": 500}, headers=h).json()["entries"]
    chain = list(reversed(entries))
    assert chain[0]["action"] == "upload" and chain[0]["actor"] == {"type": "user", "id": owner.user_id}
    assert chain[0]["subject"] == {"kind": "asset", "id": asset_id}
    derives = [e for e in chain if e["action"] == "derive"]
    assert sorted(e["outputs"][0]["id"] for e in derives) == sorted(a["id"] for a in variants)
    for entry in derives:  # each variant names its parent by hash, and its own bytes by hash
        assert entry["inputs"] == [{"kind": "asset", "id": asset_id, "sha256": asset["sha256"]}]
        variant = next(a for a in variants if a["id"] == entry["outputs"][0]["id"])
        assert entry["outputs"][0]["sha256"] == variant["sha256"]
    assert [e["action"] for e in chain][-2:] == ["edit", "delete"]

    verified = client.get("/provenance/verify", headers=h).json()
    assert verified == {"ok": True, "length": len(chain), "head": entries[0]["hash"], "first_bad": None, "reason": None}
    down = client.get(f"/provenance/lineage/{asset_id}", params={"direction": "down"}, headers=h).json()
    assert {(e["from"], e["to"]) for e in down["edges"]} == {(asset_id, a["id"]) for a in variants}
    up = client.get(f"/provenance/lineage/{variants[0]['id']}", params={"direction": "up"}, headers=h).json()
    assert {n["id"] for n in up["nodes"]} == {asset_id, variants[0]["id"]}
