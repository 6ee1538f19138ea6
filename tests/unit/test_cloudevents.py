"""Envelopes we build match what Google delivers through Eventarc; decoders read them back.

Golden fixtures (tests/fixtures/cloudevents/), taken from public Google samples:

* ``pubsub_message_published.json``: the envelope attributes and message of the Functions
  Framework conformance input
  GoogleCloudPlatform/functions-framework-conformance events/generate/data/pubsub_text-cloudevent-input.json
  (also the example on https://cloud.google.com/eventarc/docs/cloudevents-json), with the
  message fields Eventarc sends twice (``message_id``, ``publish_time`` beside ``messageId``,
  ``publishTime``) as in googleapis/google-cloudevents
  testdata/google/events/cloud/pubsub/v1/MessagePublishedData-duplicatedFields.json.
  The conformance input's ``"@type"`` key (a leftover of the legacy-event conversion, absent
  from the Eventarc docs example) is left out; the decoder ignores it if present.
* ``storage_object_finalized.json``: the StorageObjectData of the conformance input
  events/generate/data/storage-cloudevent-input.json, with ``source`` and ``subject`` split the
  way Eventarc sends them (bucket in ``source``, ``objects/{name}`` in ``subject``), as expected
  in GoogleCloudPlatform/functions-framework-go funcframework/framework_test.go.
"""
from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest
from cloudevents.http import CloudEvent

from studio.kernel import errors
from studio.kernel.cloudevents import (
    PUBSUB_PUBLISHED,
    STORAGE_FINALIZED,
    PubsubPayload,
    StorageObject,
    decode_pubsub,
    decode_storage,
    pubsub_envelope,
    storage_envelope,
    storage_etag,
    to_cloudevent,
)
from studio.ports.bus import BusMessage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cloudevents"


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def _shape(value):
    """Keys and JSON types, recursively: what must match "modulo the values"."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return type(value).__name__


def _golden_pubsub() -> dict:
    message = BusMessage(
        message_id="aaaaaa-1111-bbbb-2222-cccccccccccc",
        topic="gcf-test",
        data=b"test message 3",
        attributes={"attr1": "attr1-value"},
        ordering_key="",
        publish_time="2020-09-29T11:32:00.000Z",
    )
    return pubsub_envelope(message, project="sample-project", subscription="sample-subscription")


def _golden_storage(**overrides) -> dict:
    args = dict(
        bucket="some-bucket",
        name="folder/Test.cs",
        size=352,
        content_type="text/plain",
        generation=1587627537231057,
        md5_b64="kF8MuJ5+CTJxvyhHS1xzRg==",
        crc32c_b64="rTVTeQ==",
        time="2020-09-29T11:32:00.000Z",
        event_id="aaaaaa-1111-bbbb-2222-cccccccccccc",
    )
    return storage_envelope(**{**args, **overrides})


# -- building matches the golden envelopes ------------------------------------------------


def test_pubsub_envelope_is_the_golden_envelope():
    assert _golden_pubsub() == _fixture("pubsub_message_published.json")


def test_pubsub_envelope_adds_ordering_key_only_when_set():
    message = BusMessage("1", "t", b"x", {}, "tenant-7", "2024-01-01T00:00:00.000Z")
    body = pubsub_envelope(message, project="p", subscription="s")["data"]["message"]
    assert body["orderingKey"] == "tenant-7"
    assert "orderingKey" not in _golden_pubsub()["data"]["message"]


def test_storage_envelope_has_the_golden_shape():
    built, golden = _golden_storage(), _fixture("storage_object_finalized.json")
    assert _shape(built) == _shape(golden)


def test_storage_envelope_values_match_the_golden_envelope():
    built, golden = _golden_storage(), _fixture("storage_object_finalized.json")
    # Values we derive differently from the sample, on purpose:
    # - timestamps: a freshly finalized object's times all equal the event time;
    # - storageClass: new buckets default to STANDARD (the sample's MULTI_REGIONAL is legacy);
    # - selfLink/mediaLink: the JSON API percent-encodes the object name in both and now
    #   serves media from storage.googleapis.com (the sample was hand-written).
    derived = {"timeCreated", "updated", "timeStorageClassUpdated", "storageClass", "selfLink", "mediaLink"}
    for key in derived:
        built["data"].pop(key)
        golden["data"].pop(key)
    assert built == golden


def test_storage_links_encode_the_object_name():
    data = _golden_storage()["data"]
    assert data["selfLink"] == "https://www.googleapis.com/storage/v1/b/some-bucket/o/folder%2FTest.cs"
    assert data["mediaLink"].endswith("/b/some-bucket/o/folder%2FTest.cs?generation=1587627537231057&alt=media")
    assert data["timeCreated"] == data["updated"] == data["timeStorageClassUpdated"] == "2020-09-29T11:32:00.000Z"


def test_storage_etag_is_computed_like_gcs():
    # Both etags appear in public samples next to their generation (metageneration 1).
    assert storage_etag(1587627537231057) == "CNHZkbuF/ugCEAE="
    assert storage_etag(1746121312825704) == "COji1+Togo0DEAE="


def test_to_cloudevent_keeps_every_attribute_and_the_data():
    envelope = _fixture("storage_object_finalized.json")
    event = to_cloudevent(envelope)
    assert isinstance(event, CloudEvent)
    assert event.get_attributes() == {k: v for k, v in envelope.items() if k != "data"}
    assert event.get_data() == envelope["data"]


# -- decoding -----------------------------------------------------------------------------


@pytest.mark.parametrize("as_object", [False, True])
def test_decode_pubsub_golden(as_object):
    envelope = _fixture("pubsub_message_published.json")
    payload = decode_pubsub(to_cloudevent(envelope) if as_object else envelope)
    assert payload == PubsubPayload(
        message_id="aaaaaa-1111-bbbb-2222-cccccccccccc",
        topic="gcf-test",
        data=b"test message 3",
        attributes={"attr1": "attr1-value"},
        ordering_key="",
        publish_time="2020-09-29T11:32:00.000Z",
        subscription="projects/sample-project/subscriptions/sample-subscription",
    )


def test_pubsub_round_trip_with_json_and_ordering_key():
    message = BusMessage("42", "orders", b'{"n": 1}', {"k": "v"}, "key-1", "2024-05-06T07:08:09.123Z")
    payload = decode_pubsub(to_cloudevent(pubsub_envelope(message, project="p", subscription="s")))
    assert (payload.message_id, payload.topic, payload.data) == ("42", "orders", b'{"n": 1}')
    assert (payload.attributes, payload.ordering_key) == ({"k": "v"}, "key-1")
    assert (payload.publish_time, payload.subscription) == ("2024-05-06T07:08:09.123Z", "projects/p/subscriptions/s")
    assert payload.json() == {"n": 1}


def test_decode_pubsub_accepts_camel_case_only_and_type_key():
    envelope = _fixture("pubsub_message_published.json")
    message = envelope["data"]["message"]
    del message["message_id"], message["publish_time"], message["attributes"]
    message["@type"] = "type.googleapis.com/google.pubsub.v1.PubsubMessage"
    payload = decode_pubsub(envelope)
    assert payload.message_id == "aaaaaa-1111-bbbb-2222-cccccccccccc"
    assert payload.attributes == {}


def test_decode_pubsub_binary_data():
    raw = bytes(range(256))
    message = BusMessage("b", "t", raw, {}, "", "2024-01-01T00:00:00.000Z")
    assert decode_pubsub(pubsub_envelope(message, project="p", subscription="s")).data == raw


@pytest.mark.parametrize("as_object", [False, True])
def test_decode_storage_golden(as_object):
    envelope = _fixture("storage_object_finalized.json")
    obj = decode_storage(to_cloudevent(envelope) if as_object else envelope)
    assert obj == StorageObject(
        bucket="some-bucket",
        name="folder/Test.cs",
        size=352,
        content_type="text/plain",
        generation=1587627537231057,
        md5_hash="kF8MuJ5+CTJxvyhHS1xzRg==",
        crc32c="rTVTeQ==",
    )


def test_storage_round_trip():
    obj = decode_storage(to_cloudevent(_golden_storage(name="a b/ü.txt", size=0)))
    assert (obj.name, obj.size, obj.generation) == ("a b/ü.txt", 0, 1587627537231057)


# -- rejection: always StudioError(BAD_REQUEST), never KeyError -----------------------------


def _assert_bad_request(fn, event):
    with pytest.raises(errors.StudioError) as info:
        fn(event)
    assert info.value.code is errors.BAD_REQUEST


def test_wrong_type_rejected():
    _assert_bad_request(decode_pubsub, _fixture("storage_object_finalized.json"))
    _assert_bad_request(decode_storage, to_cloudevent(_fixture("pubsub_message_published.json")))
    assert PUBSUB_PUBLISHED != STORAGE_FINALIZED


@pytest.mark.parametrize("garbage", ["!!not base64!!", "abc", "dGVzdA=x", 12])
def test_base64_garbage_rejected(garbage):
    envelope = _fixture("pubsub_message_published.json")
    envelope["data"]["message"]["data"] = garbage
    _assert_bad_request(decode_pubsub, envelope)


def _mutations():
    yield "no data", lambda e: e.pop("data")
    yield "data not an object", lambda e: e.update(data=[1])
    yield "data not JSON text", lambda e: e.update(data="{nope")
    yield "no message", lambda e: e["data"].pop("message")
    yield "no message id", lambda e: [e.pop("id"), e["data"]["message"].pop("messageId"),
                                      e["data"]["message"].pop("message_id")]
    yield "bad attributes", lambda e: e["data"]["message"].update(attributes={"a": 1})
    yield "attributes not a map", lambda e: e["data"]["message"].update(attributes=["a"])


@pytest.mark.parametrize("mutate", [m for _, m in _mutations()], ids=[n for n, _ in _mutations()])
def test_malformed_pubsub_rejected(mutate):
    envelope = copy.deepcopy(_fixture("pubsub_message_published.json"))
    mutate(envelope)
    _assert_bad_request(decode_pubsub, envelope)


@pytest.mark.parametrize(
    "field, value",
    [("size", "big"), ("size", None), ("size", -1), ("generation", 1.5), ("generation", True),
     ("bucket", None), ("name", 7)],
)
def test_malformed_storage_rejected(field, value):
    envelope = _fixture("storage_object_finalized.json")
    envelope["data"][field] = value
    _assert_bad_request(decode_storage, envelope)


def test_non_event_rejected():
    _assert_bad_request(decode_pubsub, "not an event")
    _assert_bad_request(decode_storage, None)


def test_payload_json_rejects_non_json():
    message = BusMessage("1", "t", base64.b64decode("//79"), {}, "", "")
    payload = decode_pubsub(pubsub_envelope(message, project="p", subscription="s"))
    _assert_bad_request(lambda _: payload.json(), None)


def test_to_cloudevent_rejects_missing_required_attributes():
    _assert_bad_request(to_cloudevent, {"data": {}})
