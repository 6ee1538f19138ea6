"""The media path on the Cloud Storage adapter, against fake-gcs-server and the Pub/Sub emulator:
a V4 signed PUT URL from ``POST /media-v2/uploads``'s service, the bucket's finalize notification,
Eventarc's CloudEvent (``gcs_blobs.finalize_envelope``), the ingest, the optimiser writing its
variants to the media bucket, and a signed GET of one back. Skipped with the reason printed where
either emulator is missing."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio.adapters.gcs_blobs import GcsBlobStore, finalize_envelope
from studio.adapters.pubsub_bus import PubsubBus
from studio.bootstrap import BLOBS, Deps
from studio.config import Settings
from studio.kernel import cloudevents
from studio.kernel.context import Principal, RequestContext
from studio.kernel.roles import Role
from studio.media.services import media_services
from tests.support import gcs_fake, media_samples
from tests.support.pubsub_emulator import HOST_ENV, PubsubEmulator, emulator_session
from tests.support.shared_process import say

pytestmark = [pytest.mark.emulator, pytest.mark.usefixtures("media_tools")]
PROJECT = "demo-media-gcs"
TOPIC = "uploads-finalized"
BUCKETS = {"uploads": "media-test-uploads", "media": "media-test-derived"}


@pytest.fixture(scope="session")
def pubsub_emulator(pytestconfig: pytest.Config) -> Iterator[PubsubEmulator]:
    yield from emulator_session(pytestconfig)


@pytest.fixture
def on_gcs(pubsub_emulator: PubsubEmulator, monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config,
           tmp_path: Path) -> Iterator[tuple[Deps, PubsubBus]]:
    reason = gcs_fake.missing_reason()
    if reason:
        say(pytestconfig, f"SKIPPED (fake-gcs-server): {reason}")
        pytest.skip(reason)
    monkeypatch.setenv(HOST_ENV, pubsub_emulator.host)
    prefix = f"m{uuid.uuid4().hex[:8]}-"
    notifications = PubsubBus(PROJECT, create_missing=True, name_prefix=prefix, timeout_s=5)
    notifications.subscribe("fn-media-ingest", TOPIC)
    fake = gcs_fake.start(pubsub_host=pubsub_emulator.host, project=PROJECT, topic=prefix + TOPIC)
    try:
        for bucket in BUCKETS.values():
            fake.create_bucket(bucket)
        credentials = gcs_fake.service_account_credentials(PROJECT, f"media@{PROJECT}.iam.gserviceaccount.com")
        deps = Deps(Settings(data_dir=tmp_path, public_url="http://127.0.0.1:1"))
        deps.memo(BLOBS, lambda: GcsBlobStore(PROJECT, api_endpoint=fake.url, credentials=credentials,
                                              bucket_names=BUCKETS))
        yield deps, notifications
    finally:
        fake.stop()
        notifications.close()


def _finalized(bus: PubsubBus) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for delivery in bus.pull("fn-media-ingest"):
            bus.ack(delivery)
            return cloudevents.to_cloudevent(finalize_envelope(delivery.message))
        time.sleep(0.05)
    raise AssertionError("no finalize notification arrived")


def test_signed_upload_notification_ingest_and_variants_on_cloud_storage(on_gcs: tuple[Deps, PubsubBus]) -> None:
    deps, bus = on_gcs
    services = media_services(deps)
    ctx = RequestContext("t_gcsmedia", "dev", Principal("u_gcs", "gcs@example.com"), Role.OWNER)
    data = media_samples.photo(700, 500, orientation=1)
    ticket = services.assets.create_upload(ctx, "photo.jpg", "image/jpeg", len(data), None)
    assert "X-Goog-Signature=" in ticket["upload_url"] and "x-goog-content-length-range" in ticket["upload_url"].lower()
    put = httpx.put(ticket["upload_url"], content=data, headers=ticket["headers"], timeout=10)
    assert put.status_code == 200, put.text

    event = _finalized(bus)  # what Eventarc hands the media_ingest function
    assert event["type"] == cloudevents.STORAGE_FINALIZED
    obj = cloudevents.decode_storage(event)
    assert obj.bucket == BUCKETS["uploads"] and obj.name == f"t_gcsmedia/dev/assets/{ticket['asset_id']}"
    assert services.ingest.on_finalized(obj.bucket, obj.name, obj.generation) == "registered"
    assert services.ingest.on_finalized(obj.bucket, obj.name, obj.generation) == "already-done"  # redelivered
    assert services.optimiser.handle(ctx.tenant_id, ctx.env, ticket["asset_id"]) == "ready"

    asset = services.assets.get(ctx, ticket["asset_id"])
    assert asset["status"] == "ready" and asset["sniffed_type"] == "image/jpeg"
    variants = [a for a in services.assets.artifacts_of(ctx, ticket["asset_id"])["artifacts"] if a["kind"] == "variant"]
    assert sorted({a["width"] for a in variants}) == [320, 640]
    jpeg = next(a for a in variants if a["params"]["format"] == "jpeg" and a["width"] == 640)
    body = httpx.get(jpeg["download_url"], timeout=10)  # a V4 signed GET on the media bucket
    assert body.status_code == 200 and len(body.content) == jpeg["size_bytes"]
    assert deps.blobs.stat("media", jpeg["download_url"].split(BUCKETS["media"] + "/", 1)[1].split("?")[0]) is not None


def test_a_large_upload_gets_a_resumable_session(on_gcs: tuple[Deps, PubsubBus]) -> None:
    deps, bus = on_gcs
    services = media_services(deps)
    ctx = RequestContext("t_gcsmedia", "dev", Principal("u_gcs", "gcs@example.com"), Role.OWNER)
    size = 40 * 1024 * 1024
    ticket = services.assets.create_upload(ctx, "long.mp4", "video/mp4", size, None)
    assert ticket["resumable"] is True and "upload_id=" in ticket["upload_url"]
    # Two chunks, as a client resumes: the first 256 KiB-aligned piece, then the rest with the total.
    first, rest = 8 * 1024 * 1024, size - 8 * 1024 * 1024
    put = httpx.put(ticket["upload_url"], content=b"\0" * first, timeout=30,
                    headers={"Content-Range": f"bytes 0-{first - 1}/*"})
    assert put.status_code == 308, put.text  # "resume incomplete": the session keeps what arrived
    put = httpx.put(ticket["upload_url"], content=b"\0" * rest, timeout=30,
                    headers={"Content-Range": f"bytes {first}-{size - 1}/{size}"})
    assert put.status_code in (200, 201), put.text
    event = _finalized(bus)
    obj = cloudevents.decode_storage(event)
    assert obj.size == size and services.ingest.on_finalized(obj.bucket, obj.name, obj.generation) == "failed"
    assert services.assets.get(ctx, ticket["asset_id"])["reason"] == "unsupported"  # zeros are no video
