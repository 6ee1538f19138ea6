"""An upload to fake-gcs-server lands on a Pub/Sub emulator topic as a Cloud Storage notification,
and becomes the ``object.v1.finalized`` CloudEvent the storage-triggered functions expect.

In production the bucket's notification feeds Eventarc, which builds that CloudEvent; here
PubsubBus pulls the notification and ``gcs_blobs.finalize_envelope`` does Eventarc's part, so the
shapes meet in ``studio.kernel.cloudevents``. Skipped with the reason where either emulator is
missing.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from studio.adapters.gcs_blobs import GcsBlobStore, finalize_envelope
from studio.adapters.pubsub_bus import PubsubBus
from studio.kernel import cloudevents, errors
from tests.support import gcs_fake
from tests.support.pubsub_emulator import HOST_ENV, PubsubEmulator, emulator_session
from tests.support.shared_process import say

pytestmark = pytest.mark.emulator
PROJECT = "demo-storage-events"
TOPIC = "storage-finalized"


@pytest.fixture(scope="session")
def pubsub_emulator(pytestconfig: pytest.Config) -> Iterator[PubsubEmulator]:
    yield from emulator_session(pytestconfig)


@pytest.fixture(scope="module")
def signing_credentials():
    return gcs_fake.service_account_credentials(PROJECT, f"uploader@{PROJECT}.iam.gserviceaccount.com")


@pytest.fixture
def wired(pubsub_emulator: PubsubEmulator, monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config):
    """A bus with the notification topic and a subscription, and a private fake that publishes to it
    (its event settings are per process, so not the session's shared fake)."""
    reason = gcs_fake.missing_reason()
    if reason:
        say(pytestconfig, f"SKIPPED (fake-gcs-server): {reason}")
        pytest.skip(reason)
    monkeypatch.setenv(HOST_ENV, pubsub_emulator.host)
    prefix = f"n{uuid.uuid4().hex[:8]}-"
    bus = PubsubBus(PROJECT, create_missing=True, name_prefix=prefix, timeout_s=5)
    bus.subscribe("fn-media", TOPIC)  # the topic must exist before the fake publishes to it
    fake = gcs_fake.start(pubsub_host=pubsub_emulator.host, project=PROJECT, topic=prefix + TOPIC)
    try:
        yield bus, fake
    finally:
        fake.stop()
        bus.close()


def test_upload_becomes_a_finalize_cloudevent(wired, signing_credentials) -> None:
    bus, fake = wired
    fake.create_bucket("prod-uploads")
    store = GcsBlobStore(PROJECT, api_endpoint=fake.url, credentials=signing_credentials,
                         bucket_names={"uploads": "prod-uploads"})
    # The way clients upload: a signed PUT URL, straight to the bucket.
    url = store.signed_url("uploads", "in/t_abc/photo 1.png", method="PUT", content_type="image/png")
    assert httpx.put(url, content=b"\x89PNG-bytes", headers={"Content-Type": "image/png"}, timeout=10).status_code == 200
    info = store.stat("uploads", "in/t_abc/photo 1.png")
    assert info is not None

    deliveries = []
    deadline = time.monotonic() + 10
    while not deliveries and time.monotonic() < deadline:
        deliveries = bus.pull("fn-media")
        time.sleep(0.02)
    [delivery] = deliveries
    attrs = delivery.message.attributes
    assert (attrs["eventType"], attrs["bucketId"], attrs["objectId"]) == ("OBJECT_FINALIZE", "prod-uploads", info.name)
    assert attrs["objectGeneration"] == str(info.generation)

    envelope = finalize_envelope(delivery.message)
    event = cloudevents.to_cloudevent(envelope)
    assert event["type"] == cloudevents.STORAGE_FINALIZED
    assert event["source"] == "//storage.googleapis.com/projects/_/buckets/prod-uploads"
    assert event["subject"] == "objects/in/t_abc/photo 1.png"
    assert event["id"] == delivery.message.message_id
    obj = cloudevents.decode_storage(event)
    assert (obj.bucket, obj.name, obj.size, obj.content_type, obj.generation, obj.md5_hash, obj.crc32c) == (
        "prod-uploads", info.name, info.size, "image/png", info.generation, info.md5_b64, info.crc32c_b64)
    bus.ack(delivery)


def test_other_notifications_are_refused(wired) -> None:
    bus, _ = wired
    bus.publish(TOPIC, b"{}", {"eventType": "OBJECT_DELETE", "payloadFormat": "JSON_API_V1"})
    [delivery] = bus.pull("fn-media")
    with pytest.raises(errors.StudioError) as exc:
        finalize_envelope(delivery.message)
    assert exc.value.status == 400
