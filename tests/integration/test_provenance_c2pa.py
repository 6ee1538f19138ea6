"""C2PA on derived images (issue 10, item 6): signed with the deployment's ES256 chain from the
secret store, read back and validated by c2pa-python; a tampered file fails validation. Then
GET /provenance/c2pa/{artifact_id} over HTTP, the artifact's file found through the ledger."""
from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from studio.bootstrap import Deps
from studio.config import Settings
from studio.kernel.errors import StudioError
from studio.provenance.c2pa_sign import embeddable, read_manifest, sign_image, sign_media
from studio.provenance.ledger import append_entry
from studio.provenance.models import ProvenanceRecord
from studio.provenance.signing_chain import SECRET_NAME, generate_material
from tests.support.api import User, new_tenant, new_user
from tests.support.platform import RunningPlatform
from tests.support.provenance import new_id

PARENT_SHA = hashlib.sha256(b"the original upload").hexdigest()
ACTIONS = [{"action": "c2pa.opened"}, {"action": "c2pa.resized", "parameters": {"width": 64}},
           {"action": "c2pa.transcoded", "parameters": {"format": "webp"}}]
INGREDIENTS = [{"sha256": PARENT_SHA, "title": "cat.jpg", "relationship": "parentOf"}]


def image(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 220)).save(out, fmt)
    return out.getvalue()


@pytest.fixture()
def deps(tmp_path: Path) -> Deps:
    return Deps(Settings(data_dir=tmp_path))


def _flip_pixel_data(data: bytes) -> bytes:
    tampered = bytearray(data)
    tampered[-40] ^= 0x5A  # inside the image data, after the manifest: the hard binding breaks
    return bytes(tampered)


@pytest.mark.parametrize(("fmt", "mime"), [("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("PNG", "image/png"),
                                           ("AVIF", "image/avif")])
def test_a_signed_image_reads_back_trusted_with_its_actions_and_ingredients(deps: Deps, fmt: str, mime: str) -> None:
    signed = sign_image(deps, image(fmt), mime, title="cat-640.webp", actions=ACTIONS, ingredients=INGREDIENTS)
    assert Image.open(io.BytesIO(signed)).size == (64, 48)  # still the image
    report = read_manifest(deps, signed, mime)
    assert report["validation_state"] == "Trusted" and report["errors"] == []
    manifest = report["manifest"]
    assert manifest["title"] == "cat-640.webp"
    assert manifest["signature_info"]["alg"] == "Es256"
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.resized", "c2pa.transcoded"]
    [ingredient] = manifest["ingredients"]
    assert (ingredient["instance_id"], ingredient["relationship"]) == (f"sha256:{PARENT_SHA}", "parentOf")


def test_a_tampered_file_fails_validation(deps: Deps) -> None:
    signed = sign_image(deps, image(), "image/jpeg", title="x", actions=ACTIONS, ingredients=INGREDIENTS)
    report = read_manifest(deps, _flip_pixel_data(signed), "image/jpeg")
    assert report["validation_state"] == "Invalid"
    assert any("mismatch" in e["code"] for e in report["errors"]), report["errors"]


def test_the_chain_is_generated_once_and_kept_in_the_secret_store(deps: Deps, tmp_path: Path) -> None:
    sign_image(deps, image(), "image/jpeg", title="a", actions=[{"action": "c2pa.created"}], ingredients=[])
    assert deps.secrets.versions(SECRET_NAME) == [1]
    # Another instance over the same data signs with the same chain, and trusts the first one's files.
    other = Deps(Settings(data_dir=tmp_path))
    signed = sign_image(other, image(), "image/jpeg", title="b", actions=[{"action": "c2pa.created"}], ingredients=[])
    assert deps.secrets.versions(SECRET_NAME) == [1]
    assert read_manifest(deps, signed, "image/jpeg")["validation_state"] == "Trusted"


def test_a_file_signed_by_another_deployment_is_valid_but_not_trusted(deps: Deps, tmp_path: Path) -> None:
    elsewhere = Deps(Settings(data_dir=tmp_path / "elsewhere"))
    signed = sign_image(elsewhere, image(), "image/jpeg", title="x", actions=[{"action": "c2pa.created"}],
                        ingredients=[])
    assert read_manifest(deps, signed, "image/jpeg")["validation_state"] == "Valid"


@pytest.mark.parametrize(("kw", "message"), [
    ({"actions": []}, "actions"),
    ({"actions": [{"action": "rm -rf"}]}, "action"),
    ({"actions": [{"action": "c2pa.resized", "parameters": "big"}]}, "parameters"),
    ({"actions": [{"action": "c2pa.opened"}], "ingredients": []}, "parentOf"),
    ({"ingredients": [{"sha256": "nope"}]}, "sha256"),
    ({"ingredients": [{"sha256": PARENT_SHA, "relationship": "stolenFrom"}]}, "relationship"),
    ({"ingredients": INGREDIENTS * 2}, "parentOf"),
])
def test_bad_manifests_are_refused(deps: Deps, kw: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"title": "x", "actions": ACTIONS, "ingredients": INGREDIENTS, **kw}
    with pytest.raises(StudioError, match=message) as raised:
        sign_image(deps, image(), "image/jpeg", **args)
    assert raised.value.code.code == "VALIDATION_FAILED"


def test_unsupported_and_broken_files(deps: Deps) -> None:
    with pytest.raises(StudioError) as raised:
        sign_image(deps, b"plain text", "text/plain", title="x", actions=ACTIONS, ingredients=INGREDIENTS)
    assert (raised.value.code.code, raised.value.status) == ("C2PA_UNSUPPORTED_FORMAT", 415)
    with pytest.raises(StudioError) as raised:
        sign_image(deps, b"\xff\xd8 not really a jpeg", "image/jpeg", title="x", actions=ACTIONS,
                   ingredients=INGREDIENTS)
    assert raised.value.code.code == "C2PA_SIGNING_FAILED"
    with pytest.raises(StudioError) as raised:
        read_manifest(deps, image(), "image/jpeg")
    assert raised.value.code.code == "C2PA_NO_MANIFEST"
    with pytest.raises(StudioError) as raised:
        read_manifest(deps, b"LEHV6nWB2yk8pyo0adR*.7kCMdnj", "text/plain")
    assert raised.value.code.code == "C2PA_UNSUPPORTED_FORMAT"


def test_a_format_without_embedding_is_signed_as_a_sidecar_store(deps: Deps) -> None:
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:  # a real WebM (c2pa has no Matroska writer)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=64x48:r=10:d=1",
                        "-c:v", "libvpx-vp9", "-deadline", "realtime", f"{tmp}/v.webm"], check=True)
        webm = Path(f"{tmp}/v.webm").read_bytes()
    assert not embeddable("video/webm") and embeddable("video/mp4")
    store = sign_media(deps, webm, "video/webm", title="render.webm", actions=[{"action": "c2pa.created"}],
                       ingredients=INGREDIENTS[:1], sidecar=True)
    assert store[:64] != webm[:64] and len(store) < 64 * 1024  # the manifest store alone, not the file
    report = read_manifest(deps, webm, "video/webm", store)
    assert report["validation_state"] == "Trusted" and report["manifest"]["title"] == "render.webm"
    tampered = read_manifest(deps, _flip_pixel_data(webm), "video/webm", store)
    assert tampered["validation_state"] == "Invalid"
    assert any(e["code"] == "assertion.dataHash.mismatch" for e in tampered["errors"]), tampered["errors"]
    with pytest.raises(StudioError) as raised:  # without its sidecar a WebM has nothing to read
        read_manifest(deps, webm, "video/webm")
    assert raised.value.code.code == "C2PA_UNSUPPORTED_FORMAT"


# -- GET /provenance/c2pa/{artifact_id} ---------------------------------------------------------


def _derived(platform: RunningPlatform, tenant_id: str, data: bytes | None, *, name: str | None = None,
             sha: str | None = None, named: bool = True) -> str:
    """A derived artifact as media stores it: its file in the media bucket (unless ``data`` is None: a
    record naming a file that is already there), its derive entry in the ledger."""
    artifact = new_id("ar")
    blob = name or f"{tenant_id}/dev/artifacts/{artifact}.jpg"
    if data is not None:
        platform.deps.blobs.put("media", blob, data, "image/jpeg")
    append_entry(platform.deps.store, tenant_id, "dev", ProvenanceRecord.model_validate({
        "action": "derive", "actor": {"type": "tool", "id": "media_optimizer"},
        "subject": {"kind": "asset", "id": "as_src"}, "inputs": [{"kind": "asset", "id": "as_src", "sha256": PARENT_SHA}],
        "outputs": [{"kind": "artifact", "id": artifact, "sha256": sha or hashlib.sha256(data or b"").hexdigest(),
                     **({"blob": blob, "bucket": "media", "mime": "image/jpeg"} if named else {})}]}))
    return artifact


def _get(client: httpx.Client, user: User, tenant_id: str, artifact: str) -> httpx.Response:
    return client.get(f"/provenance/c2pa/{artifact}", headers=user.in_tenant(tenant_id))


def test_the_route_reads_back_and_validates_the_artifacts_manifest(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    signed = sign_image(platform.deps, image(), "image/jpeg", title="cat-64.jpg", actions=ACTIONS,
                        ingredients=INGREDIENTS)
    artifact = _derived(platform, tenant, signed)
    resp = _get(client, owner, tenant, artifact)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["artifact_id"], body["mime"], body["validation_state"]) == (artifact, "image/jpeg", "Trusted")
    assert body["sha256"] == hashlib.sha256(signed).hexdigest() and body["sha256_matches_ledger"] is True
    assert body["manifest"]["ingredients"][0]["instance_id"] == f"sha256:{PARENT_SHA}"

    # The stored file is changed after the fact: the manifest no longer validates, the hash differs.
    platform.deps.blobs.put("media", f"{tenant}/dev/artifacts/{artifact}.jpg", _flip_pixel_data(signed), "image/jpeg")
    tampered = _get(client, owner, tenant, artifact).json()
    assert tampered["validation_state"] == "Invalid" and tampered["errors"]
    assert tampered["sha256_matches_ledger"] is False


def test_a_ref_without_its_file_name_is_found_where_derived_files_live(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    signed = sign_image(platform.deps, image(), "image/jpeg", title="v", actions=ACTIONS, ingredients=INGREDIENTS)
    artifact = _derived(platform, tenant, signed, named=False)  # <tenant>/<env>/artifacts/<id>.jpg, media's layout
    body = _get(client, owner, tenant, artifact).json()
    assert (body["validation_state"], body["mime"], body["sha256_matches_ledger"]) == ("Trusted", "image/jpeg", True)
    nowhere = _derived(platform, tenant, None, name=f"{tenant}/dev/elsewhere/x.jpg", named=False)
    assert _get(client, owner, tenant, nowhere).json()["code"] == "ARTIFACT_BLOB_UNKNOWN"


def test_the_route_refuses_what_it_cannot_read(client: httpx.Client, platform: RunningPlatform, owner: User,
                                                tenant: str) -> None:
    unsigned = _derived(platform, tenant, image())
    resp = _get(client, owner, tenant, unsigned)
    assert (resp.status_code, resp.json()["code"]) == (404, "C2PA_NO_MANIFEST")
    assert _get(client, owner, tenant, new_id("ar")).json()["code"] == "NOT_FOUND"

    # A ledger record naming another tenant's file is refused, not followed.
    victim = new_tenant(client, new_user(client, "victim"))
    theirs = f"{victim}/dev/artifacts/secret.jpg"
    platform.deps.blobs.put("media", theirs, sign_image(platform.deps, image(), "image/jpeg", title="s",
                                                        actions=ACTIONS, ingredients=INGREDIENTS), "image/jpeg")
    pointed = _derived(platform, tenant, None, name=theirs)
    resp = _get(client, owner, tenant, pointed)
    assert (resp.status_code, resp.json()["code"]) == (409, "ARTIFACT_BLOB_UNKNOWN")

    # Another tenant cannot read ours: the ledger it looks in is its own.
    stranger = new_user(client, "stranger")
    signed_one = _derived(platform, tenant, sign_image(platform.deps, image(), "image/jpeg", title="t",
                                                       actions=ACTIONS, ingredients=INGREDIENTS))
    assert _get(client, stranger, new_tenant(client, stranger), signed_one).status_code == 404


# -- Google Cloud: the same port over Secret Manager (its REST API, served by the edge fake) -------------


@pytest.fixture()
def gcp_deps(tmp_path: Path) -> Iterator[Deps]:
    from google.auth.credentials import AnonymousCredentials

    from studio.adapters.secret_manager import SecretManagerStore
    from studio.bootstrap import SECRETS
    from tests.support.fake_secret_manager import FakeSecretManager

    server = FakeSecretManager().start()
    deps = Deps(Settings(data_dir=tmp_path))
    deps.memo(SECRETS, lambda: SecretManagerStore("studio-fake", transport="rest", api_endpoint=server.url,
                                                  credentials=AnonymousCredentials()))
    yield deps
    server.stop()


def test_on_google_cloud_the_chain_lives_in_secret_manager(gcp_deps: Deps) -> None:
    signed = sign_image(gcp_deps, image(), "image/jpeg", title="x", actions=ACTIONS, ingredients=INGREDIENTS)
    assert gcp_deps.secrets.versions(SECRET_NAME) == [1]
    assert read_manifest(gcp_deps, signed, "image/jpeg")["validation_state"] == "Trusted"


def test_a_chain_put_there_by_ops_is_used_as_is(gcp_deps: Deps) -> None:
    provisioned = generate_material("Ops-issued signer")
    gcp_deps.secrets.put(SECRET_NAME, json.dumps({"key_pem": provisioned.key_pem.decode(),
                                                 "chain_pem": provisioned.chain_pem.decode(),
                                                 "root_pem": provisioned.root_pem.decode()}).encode())
    signed = sign_image(gcp_deps, image(), "image/jpeg", title="x", actions=ACTIONS, ingredients=INGREDIENTS)
    report = read_manifest(gcp_deps, signed, "image/jpeg")
    assert report["validation_state"] == "Trusted"
    assert report["manifest"]["signature_info"]["common_name"] == "Ops-issued signer"
    assert gcp_deps.secrets.versions(SECRET_NAME) == [1]  # nothing generated beside it
