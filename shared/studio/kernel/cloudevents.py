"""CloudEvents exactly as Eventarc delivers them to Cloud Functions gen2, built and decoded.

The shapes mirror public Google samples (see tests/unit/test_cloudevents.py for the sources):
Eventarc's JSON event format page, the functions-framework conformance inputs, and the
google-cloudevents test data. Tables first, then small functions, in the style of
functions-framework's ``event_conversion.py``.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cloudevents.abstract import CloudEvent as AnyCloudEvent
from cloudevents.exceptions import GenericException as CloudEventsError
from cloudevents.http import CloudEvent

from studio.kernel import errors

if TYPE_CHECKING:
    from studio.ports.bus import BusMessage

PUBSUB_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
STORAGE_FINALIZED = "google.cloud.storage.object.v1.finalized"

SPEC_VERSION = "1.0"
JSON_CONTENT_TYPE = "application/json"

# CloudEvent ``source`` per event type, and the pattern to read it back.
_SOURCE_TEMPLATES = {
    PUBSUB_PUBLISHED: "//pubsub.googleapis.com/projects/{project}/topics/{topic}",
    STORAGE_FINALIZED: "//storage.googleapis.com/projects/_/buckets/{bucket}",
}
_SOURCE_PATTERNS = {
    PUBSUB_PUBLISHED: re.compile(r"//pubsub\.googleapis\.com/projects/(?P<project>[^/]+)/topics/(?P<topic>[^/]+)"),
    STORAGE_FINALIZED: re.compile(r"//storage\.googleapis\.com/projects/_/buckets/(?P<bucket>[^/]+)"),
}
_SUBSCRIPTION_TEMPLATE = "projects/{project}/subscriptions/{subscription}"

# Eventarc sends these PubsubMessage fields twice, camelCase and snake_case
# (google-cloudevents MessagePublishedData-duplicatedFields.json); decoding accepts either.
_PUBSUB_DUPLICATED_FIELDS = {"messageId": "message_id", "publishTime": "publish_time"}

# StorageObjectData: JSON API field -> constant value for a freshly finalized object.
_STORAGE_CONSTANTS = {"kind": "storage#object", "metageneration": "1", "storageClass": "STANDARD"}
_STORAGE_SELF_LINK = "https://www.googleapis.com/storage/v1/b/{bucket}/o/{object}"
_STORAGE_MEDIA_LINK = (
    "https://storage.googleapis.com/download/storage/v1/b/{bucket}/o/{object}?generation={generation}&alt=media"
)
_STORAGE_SUBJECT_PREFIX = "objects/"


@dataclass(frozen=True)
class PubsubPayload:
    message_id: str
    topic: str | None  # None when the source is not a Pub/Sub topic path
    data: bytes
    attributes: dict[str, str] = field(default_factory=dict)
    ordering_key: str = ""
    publish_time: str = ""
    subscription: str = ""  # full resource name, "projects/{p}/subscriptions/{s}"

    def json(self) -> Any:
        try:
            return json.loads(self.data)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _bad(f"Pub/Sub message {self.message_id} data is not JSON") from exc


@dataclass(frozen=True)
class StorageObject:
    bucket: str
    name: str
    size: int
    content_type: str
    generation: int
    md5_hash: str
    crc32c: str


# -- building ---------------------------------------------------------------------------


def pubsub_envelope(message: BusMessage, *, project: str, subscription: str) -> dict[str, Any]:
    """The structured-mode CloudEvent (attributes + ``data``) for one Pub/Sub delivery."""
    pubsub_message: dict[str, Any] = {
        "data": base64.b64encode(message.data).decode("ascii"),
        "attributes": dict(message.attributes),
    }
    values = {"messageId": message.message_id, "publishTime": message.publish_time}
    for camel, snake in _PUBSUB_DUPLICATED_FIELDS.items():
        pubsub_message[camel] = pubsub_message[snake] = values[camel]
    if message.ordering_key:
        pubsub_message["orderingKey"] = message.ordering_key
    return {
        "specversion": SPEC_VERSION,
        "type": PUBSUB_PUBLISHED,
        "source": _SOURCE_TEMPLATES[PUBSUB_PUBLISHED].format(project=project, topic=message.topic),
        "id": message.message_id,
        "time": message.publish_time,
        "datacontenttype": JSON_CONTENT_TYPE,
        "data": {
            "message": pubsub_message,
            "subscription": _SUBSCRIPTION_TEMPLATE.format(project=project, subscription=subscription),
        },
    }


def storage_etag(generation: int, metageneration: int = 1) -> str:
    """GCS object etag: base64 of a protobuf with fields 1=generation, 2=metageneration."""
    return base64.b64encode(b"\x08" + _varint(generation) + b"\x10" + _varint(metageneration)).decode()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def storage_envelope(
    *,
    bucket: str,
    name: str,
    size: int,
    content_type: str,
    generation: int,
    md5_b64: str,
    crc32c_b64: str,
    time: str,
    event_id: str,
) -> dict[str, Any]:
    """The CloudEvent Eventarc sends when an object is finalized (created or overwritten)."""
    link_args = {"bucket": bucket, "object": quote(name, safe=""), "generation": generation}
    data = {
        "kind": _STORAGE_CONSTANTS["kind"],
        "id": f"{bucket}/{name}/{generation}",
        "selfLink": _STORAGE_SELF_LINK.format(**link_args),
        "name": name,
        "bucket": bucket,
        "generation": str(generation),
        "metageneration": _STORAGE_CONSTANTS["metageneration"],
        "contentType": content_type,
        "timeCreated": time,
        "updated": time,
        "storageClass": _STORAGE_CONSTANTS["storageClass"],
        "timeStorageClassUpdated": time,
        "size": str(size),
        "md5Hash": md5_b64,
        "mediaLink": _STORAGE_MEDIA_LINK.format(**link_args),
        "crc32c": crc32c_b64,
        "etag": storage_etag(generation, int(_STORAGE_CONSTANTS["metageneration"])),
    }
    return {
        "specversion": SPEC_VERSION,
        "type": STORAGE_FINALIZED,
        "source": _SOURCE_TEMPLATES[STORAGE_FINALIZED].format(bucket=bucket),
        "subject": _STORAGE_SUBJECT_PREFIX + name,
        "id": event_id,
        "time": time,
        "datacontenttype": JSON_CONTENT_TYPE,
        "data": data,
    }


def to_cloudevent(envelope: Mapping[str, Any]) -> CloudEvent:
    """The object functions-framework hands to ``@functions_framework.cloud_event`` handlers."""
    attributes = {k: v for k, v in envelope.items() if k != "data"}
    try:
        return CloudEvent(attributes, envelope.get("data"))
    except CloudEventsError as exc:
        raise _bad("not a CloudEvent: a required attribute is missing or malformed") from exc


# -- decoding ---------------------------------------------------------------------------


def _bad(detail: str) -> errors.StudioError:
    return errors.StudioError(errors.BAD_REQUEST, detail)


def _split(event: Any, expected_type: str) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """(attributes, data object) of a CloudEvent object or envelope dict of the given type."""
    if isinstance(event, AnyCloudEvent):
        attributes, data = event.get_attributes(), event.get_data()
    elif isinstance(event, Mapping):
        attributes, data = event, event.get("data")
    else:
        raise _bad(f"expected a CloudEvent, got {type(event).__name__}")
    if attributes.get("type") != expected_type:
        raise _bad(f"expected a {expected_type} event, got {attributes.get('type')!r}")
    if isinstance(data, bytes | str):  # data left undecoded by an HTTP binding
        try:
            data = json.loads(data)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _bad("event data is not JSON") from exc
    if not isinstance(data, dict):
        raise _bad("event data must be a JSON object")
    return attributes, data


def _text(obj: Mapping[str, Any], *keys: str, default: str | None = None) -> str:
    """First present key as a string; BAD_REQUEST when missing (and no default) or not a string."""
    for key in keys:
        value = obj.get(key)
        if value is not None:
            if not isinstance(value, str):
                raise _bad(f"{key} must be a string")
            return value
    if default is None:
        raise _bad(f"missing {' / '.join(keys)}")
    return default


def decode_pubsub(event: Any) -> PubsubPayload:
    attributes, data = _split(event, PUBSUB_PUBLISHED)
    message = data.get("message")
    if not isinstance(message, dict):
        raise _bad("Pub/Sub event has no message")
    try:
        payload = base64.b64decode(_text(message, "data", default=""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad("Pub/Sub message data is not base64") from exc
    attrs = message.get("attributes") or {}
    if not isinstance(attrs, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in attrs.items()
    ):
        raise _bad("Pub/Sub message attributes must map strings to strings")
    source = attributes.get("source")
    match = _SOURCE_PATTERNS[PUBSUB_PUBLISHED].fullmatch(source) if isinstance(source, str) else None
    event_id, event_time = attributes.get("id"), attributes.get("time")
    return PubsubPayload(
        message_id=_text(message, "messageId", _PUBSUB_DUPLICATED_FIELDS["messageId"],
                         default=event_id if isinstance(event_id, str) else None),
        topic=match["topic"] if match else None,
        data=payload,
        attributes=dict(attrs),
        ordering_key=_text(message, "orderingKey", "ordering_key", default=""),
        publish_time=_text(message, "publishTime", _PUBSUB_DUPLICATED_FIELDS["publishTime"],
                           default=event_time if isinstance(event_time, str) else ""),
        subscription=_text(data, "subscription", default=""),
    )


def _integer(obj: Mapping[str, Any], key: str) -> int:
    value = obj.get(key)
    # The JSON API sends int64 fields as strings; accept a plain JSON integer too.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(f"{key} must be an integer")
    try:
        number = int(value)
    except ValueError as exc:
        raise _bad(f"{key} must be an integer") from exc
    if number < 0:
        raise _bad(f"{key} must not be negative")
    return number


def decode_storage(event: Any) -> StorageObject:
    _, data = _split(event, STORAGE_FINALIZED)
    return StorageObject(
        bucket=_text(data, "bucket"),
        name=_text(data, "name"),
        size=_integer(data, "size"),
        content_type=_text(data, "contentType", default=""),
        generation=_integer(data, "generation"),
        md5_hash=_text(data, "md5Hash", default=""),
        crc32c=_text(data, "crc32c", default=""),
    )
